"""CPR numbers are masked in every output of every command unless --show-cpr (item 9)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import invoke, no_traceback

from medcom.identifiers import find_cprs, mask_cprs

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "examples" / "log"
# The CPR numbers of the inputs below, written as the inputs write them.
KNOWN = ("2509479989", "250947-9989", "0703411234", "1112304321", "0101907AB1")


@pytest.mark.parametrize(("text", "masked"), [
    ("The value '250947-9989' is not accepted", "The value '250947-****' is not accepted"),
    ("cpr 2509479989, again 0703411234.", "cpr 250947-****, again 070341-****."),
    ("replacement 0101907AB1", "replacement 010190-****"),
    ("envelope 25094799891234 and episode 48ed5d2db39237d7ae5e829b17581629", None),  # longer runs: not CPRs
    ("time 2025-03-24T08:40:00+01:00, GLN 5790000182732, phone 97660000", None),
    ("3213456789 is no date; x2509479989 is inside a word", None),
])
def test_mask_cprs(text: str, masked: str | None) -> None:
    assert mask_cprs(text) == (masked or text)
    assert bool(find_cprs(text)) == (masked is not None)


def _leaks(text: str) -> list[str]:
    return [cpr for cpr in KNOWN if cpr in text] + find_cprs(text)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A log whose findings quote CPR numbers: a schema error quoting a hyphenated CPR, a receipt-asking
    message with it (negative receipt), a side-car line and a timeline whose errors quote CPRs."""
    root = tmp_path_factory.mktemp("cpr")
    log = root / "log"
    shutil.copytree(LOG, log)
    plan = next(LOG.glob("E1-*-care_plan_sent.xml")).read_bytes()
    (log / "zz-hyphen.xml").write_bytes(plan.replace(b"2509479989", b"250947-9989").replace(b"E1E0001", b"ZZE0001"))
    (log / "zz-replacement.xml").write_bytes(plan.replace(b"2509479989", b"0101907AB1 ").replace(b"E1E0001", b"ZZ2"))
    with (log / "events.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"at": "2509479989", "episode": "E1", "event": "phone_call"}\n')
        handle.write('{"at": "2025-03-25T12:00", "episode": "0703411234", "event": "phone_call", "caller": 5}\n')
    timeline = root / "timeline.jsonl"
    timeline.write_text((ROOT / "tests" / "timelines" / "clean.jsonl").read_text(encoding="utf-8")
                        + '{"at": "2025-03-24T08:40", "episode": "x", "event": "admitted", "cpr": "250947-9989"}\n'
                        + '{"at": "1112304321", "episode": "x", "event": "ready_for_discharge"}\n', encoding="utf-8")
    return {"log": log, "timeline": timeline, "root": root}


def _runs(inputs: dict[str, Path], out: Path, *show: str) -> list[tuple[str, str]]:
    """(what, text) for every output of every command, written to `out` or printed."""
    log, timeline = inputs["log"], inputs["timeline"]
    texts: list[tuple[str, str]] = []
    for fmt in ("text", "json", "junit"):
        result = no_traceback(invoke("validate", log, timeline, "--format", fmt, "--receipts", out / f"r-{fmt}", *show))
        texts += [(f"validate {fmt}", result.stdout + result.stderr)]
        texts += [(f"receipt {p.name}", p.read_text(encoding="utf-8")) for p in (out / f"r-{fmt}").iterdir()]
    for source in (log, timeline):
        for fmt in ("text", "json", "junit", "html"):
            result = no_traceback(invoke("replay", source, "--format", fmt, "--out", out / f"replay.{fmt}", *show))
            texts += [(f"replay {source.name} {fmt}", result.stdout + result.stderr
                       + (out / f"replay.{fmt}").read_text(encoding="utf-8"))]
    if not show:
        result = no_traceback(invoke("build", timeline, "--out", out / "built"))
        texts += [("build", result.stdout + result.stderr)]
    return texts


def test_no_output_of_any_command_shows_a_cpr(inputs: dict[str, Path], tmp_path: Path) -> None:
    texts = _runs(inputs, tmp_path)
    leaks = {what: _leaks(text) for what, text in texts if _leaks(text)}
    assert leaks == {}
    assert any("250947-****" in text for _, text in texts)  # masked, not dropped


def test_show_cpr_shows_them(inputs: dict[str, Path], tmp_path: Path) -> None:
    """The scan above can fail: with --show-cpr the same runs show the numbers the inputs quote."""
    texts = dict(_runs(inputs, tmp_path, "--show-cpr"))
    assert "250947-9989" in texts["validate json"] and "250947-9989" in texts["replay log json"]
    assert "2509479989" in texts["replay timeline.jsonl html"]
    assert any("250947-9989" in text for what, text in texts.items() if what.startswith("receipt"))
