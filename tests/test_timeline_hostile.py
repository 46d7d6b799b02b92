"""One bad timeline line is rejected with its finding; the rest is read, replayed and built (item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback
from helpers.timelines import clean_episode

BAD_LINES: dict[str, bytes] = {
    "deeply nested JSON": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "phone_call", "x": '
                          + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "5,000-digit integer": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "phone_call", "n": '
                           + b"9" * 5000 + b"}",
    "list as event": b'{"at": "2025-03-25T12:00", "episode": "E", "event": ["phone_call"]}',
    "object as event": b'{"at": "2025-03-25T12:00", "episode": "E", "event": {"a": 1}}',
    "list as id": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "care_plan_sent", "id": ["x"]}',
    "object as ref": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "receipt_sent", "ref": {"a": 1}}',
    "list as reply_to": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "correspondence_sent", '
                        b'"sender": "hospital", "reply_to": [1]}',
    "list as episode": b'{"at": "2025-03-25T12:00", "episode": ["E"], "event": "phone_call"}',
    "object as episode": b'{"at": "2025-03-25T12:00", "episode": {"E": 1}, "event": "phone_call"}',
    "year 1 with an offset": b'{"at": "0001-01-01T00:00:00+01:00", "episode": "E", "event": "phone_call"}',
    "year 9999 with an offset": b'{"at": "9999-12-31T23:59:59-05:00", "episode": "E", "event": "phone_call"}',
    "year 9999 in a deadline": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "responsibility_extended", '
                               b'"until": "9999-12-31T00:00:00+00:00"}',
    "year 9999 discharge (72 h after it overflows)": b'{"at": "9999-12-31T10:00", "episode": "E", '
                                                     b'"event": "discharged", "destination": "nursing_home"}',
    "lone surrogate": b'{"at": "2025-03-25T12:00", "episode": "E\\ud800", "event": "phone_call"}',
    "invalid UTF-8": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "phone_call", "topic": "\xff\xfe"}',
    "NaN": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "phone_call", "n": NaN}',
    "a control character": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "correspondence_sent", '
                           b'"sender": "hospital", "subject": "a\\u0001b"}',
    "string as a flag": b'{"at": "2025-03-25T12:00", "episode": "E", "event": "discharged", "unplanned": "no"}',
    "CPR with a hyphen": b'{"at": "2025-03-24T08:40", "episode": "E", "event": "admitted", "cpr": "250947-9989"}',
    "CPR of the wrong length": b'{"at": "2025-03-24T08:40", "episode": "E", "event": "admitted", "cpr": "25094799"}',
    "CPR with no such date": b'{"at": "2025-03-24T08:40", "episode": "E", "event": "admitted", "cpr": "3102471234"}',
}


def _timeline(tmp_path: Path, bad: bytes) -> tuple[Path, int]:
    """The clean episode with `bad` as line 3; returns the path and the number of good lines."""
    lines = [json.dumps(line).encode() for line in clean_episode()]
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join([*lines[:2], bad, *lines[2:]]) + b"\n")
    return path, len(lines)


@pytest.mark.parametrize("name", BAD_LINES)
def test_one_bad_line_is_rejected_and_the_rest_replayed(tmp_path: Path, name: str) -> None:
    path, good = _timeline(tmp_path, BAD_LINES[name])
    result = no_traceback(invoke("replay", str(path), "--format", "json"))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    inputs, events = report["inputs"], report["events"]  # message lines and fact lines are counted apart
    assert inputs["messages"] + events["lines"] == good + 1 and inputs["duplicates"] == 0
    assert (inputs["accepted"] + events["accepted"], inputs["rejected"] + events["rejected"]) == (good, 1)
    (finding,) = [f for f in report["input_findings"] if f["severity"] == "error"]
    assert finding["line"] == 3 and finding["rule"] in ("M-SCHEMA", "M-TIME", "M-CPR")
    assert [e["episode"] for e in report["episodes"]] == ["E"]
    assert "250947-9989" not in result.stdout


@pytest.mark.parametrize("name", BAD_LINES)
def test_build_names_the_bad_line_and_writes_nothing(tmp_path: Path, name: str) -> None:
    path, _good = _timeline(tmp_path, BAD_LINES[name])
    result = no_traceback(invoke("build", str(path), "--out", str(tmp_path / "out")))
    assert result.exit_code == 1
    assert f"{path}:3:" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_invalid_utf8_loses_only_its_line_in_a_sidecar(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    for path in (ROOT / "examples" / "log").glob("*.xml"):
        (log / path.name).write_bytes(path.read_bytes())
    sidecar = (ROOT / "examples" / "log" / "events.jsonl").read_bytes().splitlines(keepends=True)
    (log / "events.jsonl").write_bytes(b"".join([sidecar[0], b"\xc3\x28 broken\n", *sidecar[1:]]))
    report = json.loads(no_traceback(invoke("replay", str(log), "--format", "json")).stdout)
    (finding,) = [f for f in report["input_findings"] if f["severity"] == "error"]
    assert finding["line"] == 2 and "not UTF-8" in finding["text"]
    assert [e["episode"] for e in report["episodes"]] == ["E1", "E2", "E3"]


def test_a_valid_cpr_still_builds_a_schema_valid_log(tmp_path: Path) -> None:
    path, _good = _timeline(tmp_path, b'{"at": "2025-03-25T12:00", "episode": "E", "event": "phone_call", '
                                      b'"caller": "hospital", "topic": "ok"}')
    assert no_traceback(invoke("build", str(path), "--out", str(tmp_path / "out"))).exit_code == 0
    assert no_traceback(invoke("validate", str(tmp_path / "out"))).exit_code == 0


def test_a_very_long_episode_name_builds_bounded_file_names(tmp_path: Path) -> None:
    lines = clean_episode("E" * 400)
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert no_traceback(invoke("build", str(path), "--out", str(tmp_path / "out"))).exit_code == 0
    assert max(len(p.name) for p in (tmp_path / "out").iterdir()) < 120
