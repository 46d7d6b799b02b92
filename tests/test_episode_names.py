"""Side-car and timeline lines name episodes; messages carry episode-of-care ids, a FHIR message its LPR3 id beside
the local one or alone. Whatever id a side-car names an episode by, the episode is one: the same report as when it
names it by the timeline's name (`input_rules._name_episodes`), whole and in partitions."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from helpers.timelines import clean_episode, write_timeline
from test_partitioned_replay import whole_and_parts

from medcom.events.build import build
from medcom.events.timeline import read_file
from medcom.formats.fhir.messages import LPR3_SYSTEM

LPR3_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "medcom test: episode names"))


def _national(folder: Path, lines: list[dict], lpr3_only: tuple[str, ...] = ()) -> Path:
    """Episode A built in national practice; every FHIR Encounter carries A's LPR3 id beside its local id, or
    alone in the messages whose file name holds one of `lpr3_only`."""
    folder.mkdir()
    out = folder / "log"
    build(read_file(write_timeline(folder / "t.jsonl", lines)).events, out, formats="national")
    lpr3 = {"identifier": {"system": LPR3_SYSTEM, "value": f"urn:uuid:{LPR3_ID}"}}
    for path in out.glob("*.json"):
        bundle = json.loads(path.read_text())
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "Encounter":
                alone = any(kind in path.name for kind in lpr3_only)
                resource["episodeOfCare"] = [lpr3] if alone else [*resource["episodeOfCare"], lpr3]
        path.write_text(json.dumps(bundle, indent=2))
    return out


def _name_sidecar(log: Path, names: list[str]) -> None:
    """The side-car's lines name episode A by `names`, one after another (cycled)."""
    sidecar = log / "events.jsonl"
    lines = [json.loads(line) for line in sidecar.read_text().splitlines()]
    assert len(lines) >= 2 and all(line["episode"] == "A" for line in lines)
    for i, line in enumerate(lines):
        line["episode"] = names[i % len(names)]
    sidecar.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _report(log: Path) -> dict:
    """The JSON report, whole; checked equal to the partitioned one (partitions of one message)."""
    whole, parts, _ = whole_and_parts(log, 1)
    assert parts == whole
    return json.loads(whole["json"])


def _renamed(report: dict, name: str, folder: Path) -> dict:
    """The report of the log in folder b with episode `name` called A, as the reference log in folder a names it."""
    text = json.dumps(report).replace(json.dumps(name), '"A"')
    return json.loads(text.replace(json.dumps(str(folder / "b"))[1:-1], json.dumps(str(folder / "a"))[1:-1]))


LATE = {"plan": "2025-03-26T15:00", "discharged": "2025-03-28T13:00"}  # CP-1 and more: findings to compare


@pytest.mark.parametrize("lines", [clean_episode("A"), clean_episode("A", **LATE)], ids=["clean", "late"])
@pytest.mark.parametrize("name", [LPR3_ID, LPR3_ID.upper(), f"urn:uuid:{LPR3_ID}", LPR3_ID.replace("-", "")])
def test_a_sidecar_naming_the_lpr3_id_names_the_episode(tmp_path: Path, lines: list[dict], name: str) -> None:
    """Before, a side-car naming the episode by its LPR3 id made a second episode of its facts (the messages
    kept their local id): ADM-1 and DIS-1 reported against messages that came, the real episode without them."""
    reference = _report(_national(tmp_path / "a", lines))
    log = _national(tmp_path / "b", lines)
    _name_sidecar(log, [name])
    report = _report(log)
    assert report["summary"]["episodes"] == 1
    assert _renamed(report, name, tmp_path) == reference
    assert bool(reference["summary"]["violations_by_rule"]) == (lines != clean_episode("A"))


@pytest.mark.parametrize("names", [["A"], ["A", LPR3_ID], [LPR3_ID, "A"]])
def test_a_message_carrying_only_the_lpr3_id_joins_the_named_episode(tmp_path: Path, names: list[str]) -> None:
    """The discharge advice carries A's LPR3 id alone; the side-car names A by its timeline name, its LPR3 id or
    both: one episode, named by the side-car's first line, the same report as with every id in every message."""
    lines = clean_episode("A", **LATE)
    reference = _report(_national(tmp_path / "a", lines))
    log = _national(tmp_path / "b", lines, lpr3_only=("discharge_advice",))
    _name_sidecar(log, names)
    report = _report(log)
    assert report["summary"]["episodes"] == 1
    assert report["episodes"][0]["episode"] == names[0]
    assert _renamed(report, names[0], tmp_path) == reference


def test_names_that_only_look_alike_stay_apart_in_a_timeline(tmp_path: Path) -> None:
    """Without messages, names are the timeline's own: "A" and "a" are two episodes, as written."""
    lines = clean_episode("A") + [dict(line, episode="a") for line in clean_episode("A")]
    for line in lines[len(lines) // 2:]:
        if "id" in line:
            line["id"] = "a-" + line["id"]
        if "ref" in line:
            line["ref"] = "a-" + line["ref"]
    path = write_timeline(tmp_path / "t.jsonl", lines)
    report = _report(path)
    assert sorted(e["episode"] for e in report["episodes"]) == ["A", "a"]
