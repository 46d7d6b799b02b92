"""Receipts and built files: bounded names, created exclusively, never through a planted symlink (item 3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback

from medcom.formats.read import read_document
from medcom.safe_files import create_new, replace_file, safe_name

GOOD = next((ROOT / "examples" / "log").glob("E1-*-care_plan_sent.xml")).read_bytes()


def _with_envelope_id(envelope_id: str) -> bytes:
    (message,) = read_document(GOOD, "good.xml")
    changed = GOOD.replace(f">{message.envelope_id}<".encode(), f">{envelope_id}<".encode(), 1)
    assert changed != GOOD
    return changed


def test_a_300_character_envelope_id_gets_a_bounded_receipt_name_and_the_batch_goes_on(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a-long.xml").write_bytes(_with_envelope_id("A" * 300))  # schema-invalid, but answerable
    (inbox / "b-good.xml").write_bytes(GOOD)
    result = no_traceback(invoke("validate", str(inbox), "--receipts", str(tmp_path / "out"), "--format", "json"))
    kinds = [f["receipt"]["kind"] for f in json.loads(result.stdout)["files"]]
    assert kinds == ["negative", "positive"]
    names = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != ".medcom-output")
    assert len(names) == 2 and all(len(n.encode()) < 120 for n in names)


def test_a_planted_symlink_is_never_followed(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    out = tmp_path / "receipts"
    out.mkdir()
    (tmp_path / "in.xml").write_bytes(GOOD)
    first = no_traceback(invoke("validate", str(tmp_path / "in.xml"), "--receipts", str(out), "--format", "json"))
    name = json.loads(first.stdout)["files"][0]["receipt"]["detail"]
    (out / name).unlink()
    (out / name).symlink_to(target)  # planted under the predictable name
    refused = invoke("validate", str(tmp_path / "in.xml"), "--receipts", str(out), "--format", "json")
    assert refused.exit_code == 2 and target.read_text(encoding="utf-8") == "keep me"  # the folder is not empty
    again = no_traceback(invoke("validate", str(tmp_path / "in.xml"), "--receipts", str(out), "--format", "json",
                                "--force"))  # the name is medcom's: the link goes, never its target
    assert target.read_text(encoding="utf-8") == "keep me"
    receipt = json.loads(again.stdout)["files"][0]["receipt"]
    assert receipt["kind"] == "positive"
    assert (out / receipt["detail"]).is_file() and not (out / receipt["detail"]).is_symlink()


def test_a_name_clash_gets_a_new_name_never_an_overwrite(tmp_path: Path) -> None:
    for folder in "abc":  # three inputs of the same name and envelope: three receipts of the same name
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "in.xml").write_bytes(GOOD)
    out = tmp_path / "receipts"
    no_traceback(invoke("validate", *(str(tmp_path / f / "in.xml") for f in "abc"), "--receipts", str(out)))
    names = sorted(p.name for p in out.iterdir() if p.name != ".medcom-output")
    assert len(names) == 3 and names[0].endswith(".2.xml") and names[1].endswith(".3.xml")


def test_safe_name_and_create_new(tmp_path: Path) -> None:
    assert safe_name("E1E0001") == "E1E0001"
    assert safe_name("../../etc/passwd") == "_.._etc_passwd"
    long_a, long_b = safe_name("x" * 300 + "a"), safe_name("x" * 300 + "b")
    assert len(long_a) == 64 and long_a != long_b
    first = create_new(tmp_path, "r.xml", b"1")
    second = create_new(tmp_path, "r.xml", b"2")
    assert (first.name, second.name) == ("r.xml", "r.2.xml") and first.read_bytes() == b"1"
    with pytest.raises(ValueError):
        create_new(tmp_path, "../escape.xml", b"")


def test_replace_file_replaces_a_symlink_not_its_target(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    (tmp_path / "out").mkdir()
    os.symlink(target, tmp_path / "out" / "events.jsonl")
    replace_file(tmp_path / "out", "events.jsonl", b"new")
    assert target.read_bytes() == b"keep" and (tmp_path / "out" / "events.jsonl").read_bytes() == b"new"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["events.jsonl"]
