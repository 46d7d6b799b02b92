"""Hostile and broken inputs: archives, special files, resource limits, unreadable directories, side-cars."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, medcom_process, no_traceback

from medcom.formats.inputs import Source, iter_sources

LOG = ROOT / "examples" / "log"
GOOD = next(LOG.glob("E1-*-care_plan_sent.xml")).read_bytes()
INVALID = (ROOT / "examples" / "invalid" / "M-CPR-no-such-date.xml").read_bytes()


def report(*args: str) -> dict:
    result = no_traceback(invoke(*args, "--format", "json"))
    return json.loads(result.stdout)


# ---- 1. archives ------------------------------------------------------------------------------------------


def test_two_members_of_the_same_name_are_both_read_and_reported_apart(tmp_path: Path) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("a.xml", INVALID)
        z.writestr("a.xml", GOOD)  # most unzip tools keep only this one
    result = report("validate", str(archive), "--receipts", str(tmp_path / "receipts"))
    files = {f["file"]: f for f in result["files"]}
    assert set(files) == {f"{archive}!a.xml#1", f"{archive}!a.xml#2"}
    assert not files[f"{archive}!a.xml#1"]["valid"] and files[f"{archive}!a.xml#2"]["valid"]
    assert result["inputs"] == {"messages": 2, "accepted": 1, "rejected": 1}
    assert files[f"{archive}!a.xml#1"]["receipt"]["kind"] == "negative"  # the invalid one is never answered OK
    assert files[f"{archive}!a.xml#2"]["receipt"]["kind"] == "positive"
    replayed = report("replay", str(archive))
    assert replayed["inputs"]["messages"] == 2 and replayed["inputs"]["rejected"] == 1


def _corrupt(path: Path, compression: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr("a.xml", GOOD)
        z.writestr("b.xml", GOOD)
    data = bytearray(path.read_bytes())
    start = 30 + len("a.xml")  # the first member's compressed data follows its local header
    for i in range(start + 10, start + 60):
        data[i] ^= 0x55
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA, zipfile.ZIP_BZIP2])
def test_a_corrupt_compressed_member_is_a_finding_and_the_archive_goes_on(tmp_path: Path, compression: int) -> None:
    archive = _corrupt(tmp_path / "corrupt.zip", compression)
    for command in ("validate", "replay"):
        result = report(command, str(archive))
        assert result["inputs"]["messages"] == 2 and result["inputs"]["rejected"] == 1, command
    files = {f["file"]: f for f in report("validate", str(archive))["files"]}
    assert files[f"{archive}!b.xml"]["valid"]
    (finding,) = files[f"{archive}!a.xml"]["findings"]
    assert finding["rule"] == "M-XML" and "cannot read archive member" in finding["text"]


# ---- 2. resource limits -----------------------------------------------------------------------------------


def test_fifo_and_device_symlinks_are_refused_unread(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    os.mkfifo(log / "fifo.xml")  # opening it would block until a writer comes: never
    os.mkfifo(log / "events.jsonl")
    (log / "zero.xml").symlink_to("/dev/zero")  # reading it never ends
    (log / "zero.jsonl").symlink_to("/dev/zero")
    (log / "zero.zip").symlink_to("/dev/zero")
    (log / "good.xml").write_bytes(GOOD)
    result = report("validate", str(log))
    assert result["inputs"] == {"messages": 4, "accepted": 1, "rejected": 3}
    assert result["events"] == {"lines": 2, "accepted": 0, "rejected": 2}
    texts = [f["text"] for entry in result["files"] + result["timelines"] for f in entry["findings"]]
    assert sum("not a regular file" in t for t in texts) == 5 and any("cannot open archive" in t for t in texts)
    replayed = report("replay", str(log))
    assert replayed["inputs"]["messages"] == 4 and replayed["inputs"]["accepted"] == 1
    assert replayed["events"] == {"lines": 2, "accepted": 0, "rejected": 2}  # the side-cars, counted apart


def test_a_file_whose_size_says_zero_is_still_read_within_the_limit() -> None:
    """/proc files report size 0 but have content: at most limit + 1 bytes are read, never all of it."""
    doc = Source("/proc/self/maps").read(max_bytes=100)
    assert doc.data is None and "over the limit of 100 bytes" in (doc.error or "")


def test_sidecar_in_an_archive_is_read_within_the_timeline_limit(tmp_path: Path) -> None:
    line = (LOG / "events.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n"
    archive = tmp_path / "log.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.xml", GOOD)
        z.writestr("events.jsonl", line * 20_000)  # ~3 MB unpacked from a few kB
    policy = tmp_path / "policy.toml"
    policy.write_text("[messages]\nmax_timeline_bytes = 100_000\n", encoding="utf-8")
    result = report("replay", str(archive), "--policy", str(policy))
    (finding,) = [f for f in result["input_findings"] if f["file"].endswith("events.jsonl")]
    assert "over the limit of 100,000 bytes" in finding["text"]
    assert result["inputs"]["messages"] == 1 and result["events"]["rejected"] == 1  # side-car lines apart


def test_findings_are_capped_per_file_and_the_rest_counted(tmp_path: Path) -> None:
    attributes = b" ".join(b'a%d="x"' % i for i in range(250))
    (tmp_path / "many.xml").write_bytes(GOOD.replace(b"<Letter>", b"<Letter " + attributes + b">", 1))
    result = report("validate", str(tmp_path / "many.xml"))
    findings = result["files"][0]["findings"]
    assert len(findings) == 101
    assert findings[-1]["rule"] == "M-SCHEMA" and findings[-1]["text"].startswith("150 more M-SCHEMA findings")
    policy = tmp_path / "policy.toml"
    policy.write_text("[messages]\nmax_findings_per_file = 10\n", encoding="utf-8")
    capped = report("validate", str(tmp_path / "many.xml"), "--policy", str(policy))
    assert len(capped["files"][0]["findings"]) == 11


@pytest.mark.slow
def test_a_million_attributes_are_refused_with_memory_and_report_bounded(tmp_path: Path) -> None:
    """800,000 attributes once took 2.8 GB and wrote a 233 MB report: now one finding, within 1.5 GB of address
    space (the parse itself takes about 0.3 GB)."""
    attributes = b" ".join(b'a%d="x"' % i for i in range(800_000))
    path = tmp_path / "attributes.xml"
    path.write_bytes(GOOD.replace(b"<Letter>", b"<Letter " + attributes + b">", 1))

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))

    run = medcom_process("validate", path, "--format", "json", preexec_fn=limit_memory, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-1000:]
    assert len(run.stdout) < 5_000
    (finding,) = json.loads(run.stdout)["files"][0]["findings"]
    assert finding["rule"] == "M-XML" and "more than 100,000 elements and attributes" in finding["text"]


# ---- 5. unreadable subdirectory ---------------------------------------------------------------------------


def test_a_directory_that_cannot_be_listed_is_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log"
    shutil.copytree(LOG, log)
    (log / "locked").mkdir()
    (log / "locked" / "hidden.xml").write_bytes(GOOD)
    real = os.scandir

    def scandir(path: object = "."):  # root reads any directory: deny this one as chmod 000 would
        if os.fspath(path).endswith("locked"):  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    sources = list(iter_sources([log]))
    (locked,) = [s for s in sources if s.error]
    assert locked.path.endswith("locked") and "Permission denied" in locked.error
    result = report("validate", str(log))
    assert result["inputs"]["rejected"] == 1
    (entry,) = [f for f in result["files"] if not f["valid"]]
    assert "cannot read directory" in entry["findings"][0]["text"]
    assert report("replay", str(log))["inputs"]["rejected"] == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a directory whatever its mode")
def test_an_unreadable_directory_is_a_finding_for_real(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0)
    try:
        result = no_traceback(invoke("validate", str(tmp_path)))
        assert result.exit_code == 1 and "cannot read directory" in result.stdout
    finally:
        (tmp_path / "locked").chmod(0o755)


# ---- 6. side-cars one folder down, and timelines in validate ----------------------------------------------


def test_zip_r_of_a_log_reads_its_sidecar_one_folder_down(tmp_path: Path) -> None:
    archive = tmp_path / "log.zip"
    with zipfile.ZipFile(archive, "w") as z:  # what `zip -r log.zip log/` makes
        for path in sorted(LOG.iterdir()):
            z.write(path, f"log/{path.name}")
    direct = report("replay", str(LOG))
    zipped = report("replay", str(archive))
    assert zipped["summary"] == direct["summary"] and zipped["inputs"] == direct["inputs"]
    assert [e["episode"] for e in zipped["episodes"]] == ["E1", "E2", "E3"]  # named by the side-car


def test_a_directory_log_one_folder_down_reads_its_sidecar(tmp_path: Path) -> None:
    shutil.copytree(LOG, tmp_path / "export" / "log")
    nested = report("replay", str(tmp_path / "export"))
    assert nested["summary"] == report("replay", str(LOG))["summary"]
    assert not any(f["rule"] == "M-SIDECAR" for f in nested["input_findings"])


def test_several_sidecars_are_all_read_and_said(tmp_path: Path) -> None:
    shutil.copytree(LOG, tmp_path / "a")
    shutil.copytree(LOG, tmp_path / "b")
    result = report("replay", str(tmp_path))
    (said,) = [f for f in result["input_findings"] if f["rule"] == "M-SIDECAR"]
    assert said["severity"] == "info" and "2 events.jsonl side-cars" in said["text"]


def test_validate_checks_a_sidecar_as_a_timeline_line_by_line(tmp_path: Path) -> None:
    lines = (LOG / "events.jsonl").read_bytes().splitlines(keepends=True)
    lines.insert(2, b'{"at": "2025-03-24T08:40", "episode": "E1", "event": "admitted", "cpr": "250947-9989"}\n')
    lines.insert(4, b"not json\n")
    archive = tmp_path / "log.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("log/E1-03-CarePlan.xml", GOOD)
        z.writestr("log/events.jsonl", b"".join(lines))
    result = report("validate", str(archive))
    assert result["inputs"] == {"messages": 1, "accepted": 1, "rejected": 0}  # the side-car is no message
    assert result["events"] == {"lines": len(lines), "accepted": len(lines) - 2, "rejected": 2}
    (timeline,) = result["timelines"]
    assert timeline["file"] == f"{archive}!log/events.jsonl"
    assert [(f["line"], f["rule"]) for f in timeline["findings"]] == [(3, "M-CPR"), (5, "M-SCHEMA")]
    text = no_traceback(invoke("validate", str(archive))).stdout
    counts = f"{len(lines)} lines, {len(lines) - 2} accepted, 2 rejected"
    assert "line 3" in text and "250947-9989" not in text and counts in text


def test_timeline_findings_are_capped_per_file_in_replay(tmp_path: Path) -> None:
    timeline = tmp_path / "t.jsonl"
    timeline.write_text((ROOT / "tests" / "timelines" / "clean.jsonl").read_text(encoding="utf-8")
                        + "not json\n" * 250, encoding="utf-8")
    result = report("replay", str(timeline))
    assert result["inputs"]["rejected"] == 250  # every line counted
    findings = result["input_findings"]
    assert len(findings) == 101 and findings[-1]["text"].startswith("150 more M-SCHEMA findings")


def test_a_schema_invalid_message_with_namespace_prefixes_is_reported(tmp_path: Path) -> None:
    """Real MedCom messages carry prefixes; a schema error's path then names them (once a crash, and with
    --workers 2 a pickling error)."""
    namespace = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/"
    advice = (ROOT / "examples" / "invalid" / "M-SCHEMA-missing-admission-time.xml").read_bytes()
    text = advice.decode("cp1252").replace('encoding="windows-1252"', 'encoding="UTF-8"')
    text = re.sub(r"<(/?)(\w+)", r"<\1m:\2", text.replace(f'xmlns="{namespace}"', f'xmlns:m="{namespace}"'))
    (tmp_path / "prefixed.xml").write_text(text, encoding="utf-8")
    (tmp_path / "good.xml").write_bytes(GOOD)
    for workers in ("1", "2"):
        result = report("validate", str(tmp_path), "--workers", workers)
        assert result["inputs"] == {"messages": 2, "accepted": 1, "rejected": 1}
        rules = {f["rule"] for entry in result["files"] for f in entry["findings"]}
        assert "M-SCHEMA" in rules
        # (partitions of one message: two documents are more than a partition, and --workers 2 reads with workers)
        assert report("replay", str(tmp_path), "--workers", workers, "--partition-size", "1")["inputs"]["rejected"] == 1


def test_a_regular_file_is_read_with_one_read_and_whole_when_reads_come_short(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A file is read with one read (the second one, that found the end, is not made); a read that gives less
    than it asked for before the size the file said (a network or FUSE file system may) is asked again."""
    import medcom.formats.inputs as inputs

    path = tmp_path / "m.xml"
    path.write_bytes(b"<a>" + b"x" * 5000 + b"</a>")
    real, calls = os.read, []

    def counted(fd: int, n: int) -> bytes:
        calls.append(n)
        return real(fd, n)

    monkeypatch.setattr(inputs.os, "read", counted)
    assert Source(str(path)).read(1 << 20).data == path.read_bytes() and len(calls) == 1
    calls.clear()
    monkeypatch.setattr(inputs.os, "read", lambda fd, n: counted(fd, min(n, 700)))
    assert Source(str(path)).read(1 << 20).data == path.read_bytes() and len(calls) == 8  # 5,010 bytes
