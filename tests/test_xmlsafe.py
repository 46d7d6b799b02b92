"""Hardened parsing: XXE and billion laughs are refused, and no local file is ever opened."""

import os
import threading
import time
from pathlib import Path

import pytest

from medcom.formats.read import read_document
from medcom.formats.xmlsafe import UnsafeXMLError, parse_bytes

BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + b"".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                             .encode() for i in range(1, 10))
                  + b"]>\n<lolz>&lol9;</lolz>\n")


def _xxe(target: Path) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE Emessage [<!ENTITY x SYSTEM "file://{target}">]>\n'
            "<Emessage>&x;</Emessage>\n").encode()


def test_xxe_never_opens_the_local_file(tmp_path: Path) -> None:
    """The entity points at a FIFO: if the parser opened it, a non-blocking writer could open it too."""
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    opened = threading.Event()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody has it open for reading
                time.sleep(0.001)
                continue
            opened.set()
            os.write(fd, b"SECRET")
            os.close(fd)
            return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
            parse_bytes(_xxe(fifo))
        time.sleep(0.05)
    finally:
        done.set()
        watcher.join(1)
    assert not opened.is_set()


def test_xxe_as_a_finding(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    (doc,) = read_document(_xxe(secret), "xxe.xml")
    assert [f.rule for f in doc.findings] == ["M-XML"]
    assert doc.findings[0].line == 2 and doc.findings[0].file == "xxe.xml"
    assert "TOP-SECRET" not in repr(doc)


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
        parse_bytes(BILLION_LAUGHS)
    assert read_document(BILLION_LAUGHS, "bl.xml")[0].findings[0].rule == "M-XML"
    assert time.perf_counter() - started < 5  # a guard against hanging, not a performance claim


def test_utf16_doctype_is_refused_too() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>'.encode("utf-16")
    with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
        parse_bytes(data)


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"<a>", "not well-formed"),
    (b"not xml at all", "not well-formed"),
    (b'<?xml version="1.0" encoding="klingon"?><a/>', "encoding"),
    (b'<?xml version="1.0" encoding="UTF-8"?><a>\xe6</a>', "not well-formed"),
])
def test_bad_documents(data: bytes, expected: str) -> None:
    with pytest.raises(UnsafeXMLError, match=expected):
        parse_bytes(data)


def test_size_limit() -> None:
    with pytest.raises(UnsafeXMLError, match="over the limit"):
        parse_bytes(b"<a>" + b"x" * 200 + b"</a>", max_bytes=100)
