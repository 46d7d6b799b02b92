"""What makes OIOXML replay and validate cheap without changing a finding (issue 23): an OIOXML-only run never
imports the FHIR stack (fhir.resources, fhirpathpy, the IG packages: ~0.8 s a process and a spawned worker)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from helpers import EXAMPLES, ROOT
from hypothesis import given
from hypothesis import strategies as st

from medcom.formats.fhir import looks_like_fhir
from medcom.formats.read import _surely_not_fhir

_RUN_OIOXML_ONLY = textwrap.dedent("""
    import shutil, sys, tempfile
    from pathlib import Path
    from click.testing import CliRunner
    from medcom.cli import main
    from medcom.formats.oioxml.wrappers import sbdh, vans_envelope

    examples, root = Path(sys.argv[1]), Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log"
        log.mkdir()
        for path in [*sorted(examples.glob("log/*.xml")), *sorted(examples.glob("invalid/M-*.xml"))]:
            shutil.copy(path, log / path.name)
        letter = sorted(examples.glob("log/*.xml"))[0].read_bytes()
        vans = vans_envelope(letter, envelope_id="1", sent="2024-01-01T10:00:00", sender_ean="5790000121526",
                             receiver_ean="5790001382445", name="XDIS16", version="XD1634C")
        (log / "vans.xml").write_bytes(vans)
        (log / "sbdh.xml").write_bytes(sbdh(vans, instance_id="2", created="2024-01-01T10:00:00",
                                            sender_gln="5790000121526", receiver_gln="5790001382445",
                                            standard="s", type_version="1", doc_type="t"))
        runs = [["replay", log, "--format", "json", "--out", Path(tmp) / "replay.json"],
                ["validate", log, "--format", "json", "--receipts", Path(tmp) / "receipts"]]
        for args in runs:
            result = CliRunner().invoke(main, [str(a) for a in args])
            assert result.exit_code in (0, 1), (args, result.output, result.exception)
        assert any((Path(tmp) / "receipts").iterdir())
    print(" ".join(sorted(m for m in sys.modules if m.startswith(("medcom.formats.fhir", "fhir", "fhirpathpy")))))
    print("tqdm:", " ".join(sorted(m for m in sys.modules if m.split(".")[0] == "tqdm")))
""")


def test_an_oioxml_only_replay_and_validate_never_import_the_fhir_stack() -> None:
    """A fresh interpreter (what a spawned worker is) runs replay and validate with receipts over bare, VANS and
    SBDH OIOXML, valid and invalid: no FHIR module is imported. It imported ~100 before (formats.read,
    replay.load and validate.receipts imported FHIR at the top)."""
    done = subprocess.run([sys.executable, "-c", _RUN_OIOXML_ONLY, str(EXAMPLES), str(ROOT)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    fhir, bar = done.stdout.splitlines()
    assert fhir.strip() == "", fhir[:2000]
    assert bar == "tqdm: ", bar[:2000]  # no terminal, no bar, no tqdm import


_HEADS = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00",
                          b"\x00", b"<\x00", b"\x00<", b" \t\r\n", b"\x0c", b"\xa0"])
_STARTS = st.sampled_from([b"<", b"{", b"[", b"<?xml version='1.0'?>", b"x", b""])
_FHIR_NS = st.sampled_from([b"", b"http://hl7.org/fhir", b"http://hl7.org/fhi", b"HTTP://HL7.ORG/FHIR"])


@given(_HEADS, _STARTS, st.binary(max_size=1100), _FHIR_NS, st.binary(max_size=40))
def test_surely_not_fhir_only_where_looks_like_fhir_says_no(head: bytes, start: bytes, middle: bytes, ns: bytes,
                                                            tail: bytes) -> None:
    """The byte test read.py asks before importing the FHIR stack never says 'not FHIR' of a document
    `looks_like_fhir` takes for FHIR (the namespace within the first kilobyte or just past it, any start)."""
    data = head + start + middle + ns + tail
    if _surely_not_fhir(data):
        assert not looks_like_fhir(data)


def test_every_oioxml_example_is_told_apart_without_the_fhir_stack() -> None:
    """Every OIOXML file of the examples and test data takes the cheap path (else the stack is imported after all)."""
    files = [p for p in [*EXAMPLES.rglob("*.xml"), *(ROOT / "tests" / "data" / "oioxml").rglob("*.xml")]
             if b"hl7.org/fhir" not in p.read_bytes()[:1024]]
    assert len(files) > 20
    readable = [p for p in files if not p.read_bytes().startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))]
    assert all(_surely_not_fhir(p.read_bytes()) for p in readable), \
        [p.name for p in readable if not _surely_not_fhir(p.read_bytes())]


def test_validate_shows_its_bar_as_asked_or_on_a_terminal(monkeypatch, capsys) -> None:
    """run_batch imports tqdm only for a bar: a bar when asked, none when told not to, and when not told, one
    exactly where stderr is a terminal (tqdm's own `disable=None` rule)."""
    import io

    from medcom.validate import BatchOptions, _shows_bar, run_batch

    files = sorted(EXAMPLES.glob("log/*.xml"))[:3]
    assert len(list(run_batch(files, BatchOptions(), progress=True))) == 3
    assert "validating" in capsys.readouterr().err
    assert len(list(run_batch(files, BatchOptions(), progress=False))) == 3
    assert capsys.readouterr().err == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        assert _shows_bar(None) is shown
        assert len(list(run_batch(files, BatchOptions(), progress=None))) == 3
        assert ("validating" in stream.getvalue()) is shown


_POOL_AND_HOLIDAYS = ("holidays", "concurrent.futures.process", "multiprocessing.forkserver")
_RUN_AND_LIST = textwrap.dedent("""
    import sys
    from click.testing import CliRunner
    from medcom.cli import main

    result = CliRunner().invoke(main, sys.argv[2:])
    assert result.exit_code in (0, 1), (result.output, result.exception)
    print(" ".join(m for m in sys.argv[1].split() if m in sys.modules))
""")


@pytest.mark.parametrize("command", ["validate", "replay"])
def test_one_process_imports_no_pool_and_validate_no_holidays(command: str) -> None:
    """Before: medcom.executors imported concurrent.futures.process and the fork server (~85 M instructions) for a
    run of one process, and medcom.calendar the `holidays` package (~215 M), which validate never asks."""
    done = subprocess.run([sys.executable, "-c", _RUN_AND_LIST, " ".join(_POOL_AND_HOLIDAYS), command,
                           str(EXAMPLES / "log"), "--format", "json"], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == (["holidays"] if command == "replay" else [])
