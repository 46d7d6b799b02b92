"""A log per key of `relations_of` (medcom.replay.input_rules) that only that key ties together: replayed in
partitions of one message it gives the whole log's report, and with that key left out of the partitioner's links
it does not. The generated logs of test_partitioned_replay cannot show these keys: in them each is redundant with
another (a message's patient with its admission line's, an alias with a side-car line's message id ...).

A receipt's letters are no key of their own: a receipt has one event per letter (or envelope) it answers, whose
`ref` names it."""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from helpers.timelines import clean_episode, write_timeline
from test_partitioned_replay import whole_and_parts

from medcom.calendar import TZ
from medcom.events import Event
from medcom.events.build import build
from medcom.events.from_messages import MessageEvents
from medcom.events.timeline import read_file
from medcom.formats.fhir.messages import LPR3_SYSTEM
from medcom.formats.oioxml import write
from medcom.formats.oioxml.wrappers import sbdh, vans_envelope
from medcom.replay import links
from medcom.replay.input_rules import Relations, by_episode, episode_aliases

LPR3_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "medcom test: an LPR3 episode of care"))  # the profile asks a UUIDv5


def _built(folder: Path, lines: list[dict], formats: str, sidecar: bool = True) -> Path:
    out = folder / "log"
    build(read_file(write_timeline(folder / "t.jsonl", lines)).events, out, formats=formats)
    if not sidecar:
        (out / "events.jsonl").unlink()
    return out


def _edit_bundle(path: Path, change: Callable[[dict], None]) -> None:
    bundle = json.loads(path.read_text())
    for entry in bundle["entry"]:
        change(entry["resource"])
    path.write_text(json.dumps(bundle, indent=2))


def _header_id(path: Path) -> str:
    bundle = json.loads(path.read_text())
    return next(e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MessageHeader")


def patient_only(folder: Path) -> Path:
    """A CareCommunication that names no episode (no Encounter), of the patient of episode A: `_resolve_orphans`
    puts it in A through the message's CPR number, which no event of it carries."""
    lines = clean_episode("A") + [{"at": "2025-03-26T10:00", "episode": "A", "event": "correspondence_sent",
                                   "id": "A-COR", "from": "municipality"}]
    log = _built(folder, lines, "national", sidecar=False)

    def no_encounter(resource: dict) -> None:
        resource.pop("encounter", None)
    path = next(log.glob("*correspondence_sent.json"))
    _edit_bundle(path, no_encounter)
    bundle = json.loads(path.read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Encounter"]
    path.write_text(json.dumps(bundle, indent=2))
    return log


def lpr3_alias(folder: Path) -> Path:
    """The admission advice names episode A by its local id and its LPR3 id; the discharge advice by the LPR3 id
    alone, for another patient: the alias joins it to A, where it is a second patient (M-PATIENT)."""
    log = _built(folder, clean_episode("A"), "national", sidecar=False)
    lpr3 = {"identifier": {"system": LPR3_SYSTEM, "value": f"urn:uuid:{LPR3_ID}"}}

    def both(resource: dict) -> None:
        if resource["resourceType"] == "Encounter":
            resource["episodeOfCare"].append(lpr3)

    def lpr3_only_other_patient(resource: dict) -> None:
        if resource["resourceType"] == "Encounter":
            resource["episodeOfCare"] = [lpr3]
        if resource["resourceType"] == "Patient":
            resource["identifier"][0]["value"] = "0101010101"
    _edit_bundle(next(log.glob("*admission_advice_sent.json")), both)
    _edit_bundle(next(log.glob("*discharge_advice_sent.json")), lpr3_only_other_patient)
    return log


def sidecar_name(folder: Path) -> Path:
    """A side-car of facts only (no admission line, no message lines), naming episode A as the timeline did: the
    name stands for the id the messages carry (`episode_aliases`)."""
    log = _built(folder, clean_episode("A"), "oioxml")
    sidecar = log / "events.jsonl"
    facts = [line for line in sidecar.read_text().splitlines() if '"admitted"' not in line and '_sent"' not in line]
    assert facts
    sidecar.write_text("\n".join(facts) + "\n")
    return log


def envelope_only(folder: Path) -> Path:
    """A negative receipt for a whole envelope (no letter named): it answers the care plan's envelope, by id."""
    log = _built(folder, clean_episode("A"), "oioxml")
    plan = next(log.glob("*care_plan_sent.xml")).read_text()
    envelope_id = plan.split("<m100:Identifier>", 1)[1].split("<", 1)[0]
    receipt = write.receipt(positive=False, envelope_id="KX8", letter_id="KX8",
                            sent=datetime(2025, 3, 25, 11, 10, tzinfo=TZ), sender_ean="5790000000005",
                            receiver_ean="5790000000012", original_envelope_id=envelope_id,
                            original_sender_ean="5790000000012", original_receiver_ean="5790000000005", letters=[],
                            refuse=("syntaksfejl", "the letter cannot be read"))
    (log / "zz-receipt.xml").write_bytes(receipt)
    return log


def cancels_another_episode(folder: Path) -> Path:
    """A cancellation (AN_STIN) under another episode id and patient, naming episode A's advice by its
    MessageHeader: `_corrections` finds what it cancels by the id it names (`replaces`)."""
    lines = clean_episode("A") + [
        {"at": "2025-03-24T11:00", "episode": "B", "event": "admitted", "cpr": "0101010101", "municipality": "851"},
        {"at": "2025-03-24T12:00", "episode": "B", "event": "admission_advice_sent", "id": "X1", "cancels": "A-ADV"}]
    log = _built(folder, lines, "national", sidecar=False)
    advice = _header_id(next(log.glob("A-*admission_advice_sent.json")))

    def names_advice(resource: dict) -> None:
        if resource["resourceType"] == "Provenance":
            resource["entity"] = [{"role": "revision", "what": {"reference": f"MessageHeader/{advice}"}}]
    _edit_bundle(next(log.glob("B-*admission_advice_sent.json")), names_advice)
    return log


def _two_patients_care_plans(folder: Path, wrap: Callable[[bytes], bytes]) -> Path:
    """Episodes A and B of two patients, each care plan wrapped by `wrap`."""
    lines = clean_episode("A") + [dict(line, episode="B", **({"cpr": "0101010101"} if "cpr" in line else {}),
                                       **({"id": "B" + line["id"][1:]} if "id" in line else {}),
                                       **({"ref": "B" + line["ref"][1:]} if "ref" in line else {}))
                                  for line in clean_episode("A")]
    log = _built(folder, lines, "oioxml", sidecar=False)
    for plan in log.glob("*care_plan_sent.xml"):
        plan.write_bytes(wrap(plan.read_bytes()))
    return log


def vans_envelope_reused(folder: Path) -> Path:
    """Two patients' care plans in VANS envelopes of one EnvelopeIdentifier: `_envelopes` finds the reuse by the
    VANS envelope's id, which nothing else of the two episodes shares."""
    return _two_patients_care_plans(folder, lambda plan: vans_envelope(
        plan, envelope_id="VSAME", sent="2025-03-25T11:00:00", sender_ean="1", receiver_ean="2", name="XDIS21",
        version="XD2134C"))


def sbdh_instance_reused(folder: Path) -> Path:
    """Two patients' care plans in SBDHs of one InstanceIdentifier: as `vans_envelope_reused`, by the SBDH's id."""
    return _two_patients_care_plans(folder, lambda plan: sbdh(
        plan, instance_id="SSAME", created="2025-03-25T11:00:00", sender_gln="1", receiver_gln="2",
        standard="urn:oio:medcom:municipality:1.0.3", type_version="XD2134C", doc_type="XDIS21"))


def _names(events: list[Event], message: MessageEvents | None) -> set[str]:
    names = {e.episode for e in events if e.episode}
    if message is not None:
        names |= {n for n in (message.episode, *message.aliases) if n}
    return names


def _without(key: str) -> Callable[..., Relations]:
    """relations_of with one key left out (for the partitioner only: the input rules still relate as before)."""
    real = links.relations_of

    def relations(events: object, message: MessageEvents | None = None) -> Relations:
        events = list(events)  # type: ignore[call-overload]
        if key == "envelope":
            events = [dataclasses.replace(copy.copy(e), envelope_id=None) for e in events]
        elif message is not None and key in ("cpr", "aliases", "replaces", "wrappers"):
            message = dataclasses.replace(message, **{key: None if key not in ("aliases", "wrappers") else ()})
        related = real(events, message)
        if key == "name aliases":
            names = _names(events, message)
            dropped = {by_episode(a) for n in names for a in episode_aliases(n)} - {by_episode(n) for n in names}
            related.keys = {k: v for k, v in related.keys.items() if k not in dropped}
        return related
    return relations


@pytest.fixture
def partitioner_without(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    yield lambda key: monkeypatch.setattr(links, "relations_of", _without(key))


@pytest.mark.parametrize(("make", "key"), [(patient_only, "cpr"), (lpr3_alias, "aliases"),
                                           (sidecar_name, "name aliases"), (envelope_only, "envelope"),
                                           (cancels_another_episode, "replaces"), (vans_envelope_reused, "wrappers"),
                                           (sbdh_instance_reused, "wrappers")])
def test_a_log_tied_by_one_key_is_the_whole_in_partitions_and_not_without_that_key(
        make: Callable[[Path], Path], key: str, tmp_path: Path, partitioner_without: Callable[[str], None]) -> None:
    log = make(tmp_path)
    whole, parts, run = whole_and_parts(log, 1)
    assert parts == whole and not run.directory.exists()
    partitioner_without(key)
    whole_again, parts_without, _ = whole_and_parts(log, 1)
    assert whole_again == whole and parts_without != whole, f"{key} is not the only tie in this log"


def test_an_alias_that_joins_another_patient_is_m_patient(tmp_path: Path) -> None:
    """The input rules separated patients before naming episodes: a discharge advice for another patient under the
    LPR3 id of episode A was joined to A by the alias (and discharged A) with no M-PATIENT."""
    whole, _, _ = whole_and_parts(lpr3_alias(tmp_path), 1)
    report = json.loads(whole["json"])
    rules = {e["episode"]: sorted(v["rule"] for v in e["violations"]) for e in report["episodes"]}
    first, second = sorted(rules)
    assert second == f"{first}~2" and "M-PATIENT" in rules[second] and "DIS-1" in rules[first], rules
