"""CPR numbers are masked in every output of every command unless --show-cpr (item 9)."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from pathlib import Path
from unittest.mock import patch

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback, our_receipt_text
from hypothesis import given, settings
from hypothesis import strategies as st

from medcom import identifiers
from medcom.identifiers import (
    _CPR_CANDIDATE,
    _FRACTION,
    _SEPARATORS,
    _candidates,
    _fractions,
    _zeros,
    find_cprs,
    mask_cprs,
)

LOG = ROOT / "examples" / "log"
# The CPR numbers of the inputs below, written as the inputs write them.
KNOWN = ("2509479989", "250947-9989", "0703411234", "1112304321", "0101907AB1")


@pytest.mark.parametrize(("text", "masked"), [
    ("The value '250947-9989' is not accepted", "The value '250947-****' is not accepted"),
    ("cpr 2509479989, again 0703411234.", "cpr 250947-****, again 070341-****."),
    ("replacement 0101907AB1", "replacement 010190-****"),
    # Inside a longer run of digits: a window whose DDMMYY is a real birth date is masked in place (issue 19).
    ("envelope 25094799891234 and episode 48ed5d2db39237d7ae5e829b17581629",
     "envelope 250947****1234 and episode 48ed5d2db39237d7ae5e829b17581629"),
    ("envelope 20250324084000", "envelope 20250324****00"),  # 250324-0840: a date, erring on masking
    ("time 2025-03-24T08:40:00+01:00, GLN 5790000182732, phone 97660000", None),
    ("3213456789 is no date; 9999999999999 holds none", None),
    # Glued to letters, and written with a space, dot, dash, no-break space or other digits (issue 19).
    ("x2509479989 is inside a word", "x250947-**** is inside a word"),
    ("CPR:250947 9989, 250947.9989, 250947\u20139989, 250947\u00a09989, 250947\u22129989",
     "CPR:250947-****, 250947-****, 250947-****, 250947-****, 250947-****"),
    ("\u0662\u0665\u0660\u0669\u0664\u0667\u0669\u0669\u0668\u0669 and \uff12\uff15\uff10\uff19\uff14\uff17-9989",
     "\u0662\u0665\u0660\u0669\u0664\u0667-**** and \uff12\uff15\uff10\uff19\uff14\uff17-****"),
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
        written = sorted((out / f"r-{fmt}").iterdir())  # the receipts, and the list of what medcom wrote there
        texts += [(f"receipt {p.name}", p.name + "\n" + (p.read_text(encoding="utf-8") if p.name.startswith(".")
                                                          else our_receipt_text(p))) for p in written]
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


# ---- every channel, every spelling (issue 19, class 8) ----------------------------------------------------------

SPELLINGS = {"space": "250947 9989", "dot": "250947.9989", "en dash": "250947\u20139989",
             "no-break space": "250947\u00a09989", "glued": "CPR2509479989x", "longer run": "12509479989",
             "arabic-indic": "\u0662\u0665\u0660\u0669\u0664\u0667\u0669\u0669\u0668\u0669",
             "fullwidth": "\uff12\uff15\uff10\uff19\uff14\uff17-\uff19\uff19\uff18\uff19"}
_SEPARATOR = re.compile(r"[\s\-\u2010-\u2015\u2212./]")


def _unmasked(text: str) -> bool:
    """Whether 2509479989 shows in `text` in any spelling: digits of any script read as ASCII, separators
    dropped. Independent of the detector under test."""
    plain = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    return "2509479989" in _SEPARATOR.sub("", plain)


def test_the_scan_sees_every_spelling() -> None:
    assert all(_unmasked(s) for s in SPELLINGS.values())
    assert not any(_unmasked(mask_cprs(s)) for s in SPELLINGS.values())


@pytest.fixture(scope="module")
def spelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log in a folder named after the patient, with the CPR number in every spelling: in message values
    (schema, F-STRUCTURE and profile findings quote them), in file names, in a timeline."""
    root = tmp_path_factory.mktemp("spelled")
    log = root / "2509479989"
    shutil.copytree(LOG, log)
    plan = next(LOG.glob("E1-*-care_plan_sent.xml")).read_bytes()
    advice = next(LOG.glob("E1-*-admission_advice_sent.json")).read_text(encoding="utf-8")
    for n, (name, spelling) in enumerate(SPELLINGS.items()):
        (log / f"{spelling} {name}.xml").write_bytes(plan.replace(b"2509479989", spelling.encode())
                                                     .replace(b"E1E0001", f"SP{n}".encode()))
        (log / f"{spelling} {name}.json").write_text(advice.replace("2509479989", spelling), encoding="utf-8")
    with (log / "events.jsonl").open("a", encoding="utf-8") as handle:
        for spelling in SPELLINGS.values():
            handle.write(json.dumps({"at": spelling, "episode": spelling, "event": "phone_call"},
                                    ensure_ascii=False) + "\n")
    return log


def _everything_written(out: Path) -> list[tuple[str, str]]:
    texts = []
    for path in sorted(out.rglob("*")):
        texts.append((f"name {path}", path.name))
        if path.is_file() and path.parent.name.startswith("receipts") and not path.name.startswith("."):
            texts.append((f"receipt {path.name}", our_receipt_text(path)))
        elif path.is_file():
            texts.append((f"file {path.name}", path.read_text(encoding="utf-8")))
    return texts


def test_no_channel_shows_a_cpr_in_any_spelling(spelled: Path, tmp_path: Path) -> None:
    """stdout and stderr (reports, progress lines, usage errors, notes), --out reports in every format,
    receipts (their texts and file names) and calibrate's scenario: none shows the number."""
    out = tmp_path / "2509479989 out"
    out.mkdir()
    runs = []
    for fmt in ("text", "json", "junit"):
        runs.append(invoke("validate", spelled, "--format", fmt, "--receipts", out / f"receipts-{fmt}"))
        runs.append(invoke("validate", spelled, "--format", fmt, "--out", out / f"validate-{fmt}"))
    for fmt in ("text", "json", "junit", "html"):
        runs.append(invoke("replay", spelled, "--format", fmt))
        runs.append(invoke("replay", spelled, "--format", fmt, "--out", out / f"replay-{fmt}",
                           "--partition-size", "3"))
    runs.append(invoke("calibrate", spelled, "--out", out / "fitted.toml", "--format", "json"))
    runs.append(invoke("calibrate", spelled, "--out", out / "fitted-text.toml"))
    runs.append(invoke("replay", spelled / "no such 250947 9989.xml"))  # a usage error quoting the path
    runs.append(invoke("validate", spelled, "--policy", spelled / "2509479989.toml"))
    texts = [(f"{' '.join(map(str, r.return_value or ()))} {i}", r.stdout + r.stderr) for i, r in enumerate(runs)]
    texts += _everything_written(out)
    for run in runs:
        no_traceback(run)
    assert (out / "fitted.toml").is_file() and any("250947-****" in text for _, text in texts)
    leaks = [(what, text[:300]) for what, text in texts if _unmasked(text)]
    assert leaks == []


def test_progress_lines_mask_the_folder_name(spelled: Path) -> None:
    run = no_traceback(invoke("replay", spelled, "--format", "json"))
    assert "replay 250947-****: reading" in run.stderr, run.stderr


def test_show_cpr_shows_the_report_but_not_stderr(spelled: Path) -> None:
    run = no_traceback(invoke("replay", spelled, "--format", "json", "--show-cpr"))
    assert "2509479989" in run.stdout and "250947 9989" in run.stdout
    assert not _unmasked(run.stderr)


@pytest.mark.parametrize("number", ["0.2509479989", "120524.05218525213", "1.2509479989e-05", "[0.1210982345, 2]"])
def test_the_digits_of_a_decimal_number_are_no_cpr(number: str) -> None:
    """A simulation's JSON (shares, DKK) keeps its numbers: masking them broke the JSON on stdout."""
    assert mask_cprs(number) == number


# The scan's fast path (identifiers._candidates, _fractions: the starts of six-digit runs found with bytes.find)
# against the regexes it stands for, on texts made of what matters to them: ASCII and other scripts' digits, every
# separator, points, capitals of a replacement number, letters beyond ASCII, lone surrogates (file names).
_SCAN_ALPHABET = st.sampled_from([*"0123456789", *"0123456789", *_SEPARATORS, ".", "A", "Z", "x", " ", "æ", "–",
                                  "\u0663", "\uff15", "\udcff", "\n"])


@settings(max_examples=600)
@given(st.lists(st.one_of(_SCAN_ALPHABET, st.sampled_from(["2509479989", "250947-9989", "0101907AB1", "1.2.3",
                                                         "0.2509479989", "20250324084000"])), max_size=60))
def test_the_fast_scan_finds_what_the_regexes_find(parts: list[str]) -> None:
    text = "".join(parts)
    expected = [(m.start(), m.groups()) for m in _CPR_CANDIDATE.finditer(text)]
    assert [(m.start(), m.groups()) for m in _candidates(text, _zeros(text))] == expected
    assert _fractions(text, _zeros(text)) == [(f.start(), f.end()) for f in _FRACTION.finditer(text)]
    assert mask_cprs(text) == _mask_by_regexes(text)


def _mask_by_regexes(text: str) -> str:
    """mask_cprs with the scan's two regexes asked directly (as before the fast path)."""
    with patch.object(identifiers, "_candidates", lambda t, _: _CPR_CANDIDATE.finditer(t)), \
            patch.object(identifiers, "_fractions", lambda t, _: [(f.start(), f.end()) for f in _FRACTION.finditer(t)]):
        return mask_cprs(text)


@settings(max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet=st.characters(categories=["Nd", "No", "Pd", "Zs", "Po", "Lu"])),
                 st.lists(st.one_of(_SCAN_ALPHABET, st.text(max_size=3), st.sampled_from(
                     ["\U0001d7ce" * 6 + "1234", "250947\u00a09989", "\u00b2\u00b3" * 5, "\u2460" * 10])),
                          max_size=80).map("".join)))
def test_the_fast_scan_finds_what_the_regexes_find_in_any_text(text: str) -> None:
    """Any Unicode text (digits of other planes, superscripts and circled numbers that are digits but not decimal,
    every dash and space): the fast path's answers are the regexes'."""
    assert [(m.start(), m.groups()) for m in _candidates(text, _zeros(text))] == [
        (m.start(), m.groups()) for m in _CPR_CANDIDATE.finditer(text)]
    assert _fractions(text, _zeros(text)) == [(f.start(), f.end()) for f in _FRACTION.finditer(text)]
    assert mask_cprs(text) == _mask_by_regexes(text)
