"""build -> replay: the XML log a timeline builds into gives the same report as the timeline itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import EXAMPLES
from helpers.rules import Offered
from helpers.timelines import clean_episode, replace, without, write_timeline

from medcom.engine.rules import all_rules
from medcom.events.build import build
from medcom.events.timeline import read_file
from medcom.formats.messages import ReadOptions
from medcom.formats.oioxml.wrappers import unwrap, wrapper_kind
from medcom.formats.read import read_document
from medcom.formats.xmlsafe import parse_bytes
from medcom.policy import load_policy
from medcom.replay import load_log, load_timeline, replay
from medcom.reports.replay import report_dict

DST = replace(clean_episode(admitted="2025-03-26T08:00", plan="2025-03-27T09:00", ready="2025-03-29T08:00",
                            discharged="2025-03-29T10:00"),
              "discharge_report_sent", extended_responsibility_until="2025-04-01T11:00:00+02:00")

TIMELINES: dict[str, list[dict]] = {
    "clean": clean_episode(),
    "late care plan, phone call": replace(
        clean_episode(plan="2025-03-26T15:00"), "care_plan_ack_sent", at="2025-03-26T16:00") + [
        {"at": "2025-03-26T15:10", "episode": "E", "event": "phone_call", "caller": "hospital", "topic": "CP-2"}],
    "Monday ready day": clean_episode(plan="2025-03-28T14:00:01", ready="2025-03-31T09:00",
                                      discharged="2025-03-31T12:00"),
    "Easter 2025": clean_episode(admitted="2025-04-14T19:20", plan="2025-04-16T15:30", ready="2025-04-22T09:00",
                                 discharged="2025-04-23T11:05"),
    "Store Bededag 2023": replace(clean_episode(admitted="2023-05-01T08:40", plan="2023-05-02T09:00",
                                                ready="2023-05-08T10:00", discharged="2023-05-08T15:00"),
                                  "care_plan_sent", at="2023-05-08T08:00"),
    "Store Bededag 2024": replace(clean_episode(admitted="2024-04-01T08:40", plan="2024-04-02T09:00",
                                                ready="2024-04-29T10:00", discharged="2024-04-29T15:00"),
                                  "care_plan_sent", at="2024-04-29T08:00"),
    "72 h across DST": DST,
    "72 h stated in wall time": replace(DST, "discharge_report_sent",
                                       extended_responsibility_until="2025-04-01T10:00:00+02:00"),
    "ready at 22:00": clean_episode(ready="2025-03-24T22:00", discharged="2025-03-26T10:00", plan="2025-03-24T11:00"),
    "discharge conference": clean_episode(admitted="2025-03-20T08:40", ready="2025-03-24T10:00",
                                          discharged="2025-03-28T11:00", plan="2025-03-21T11:00") + [
        {"at": "2025-03-26T09:00", "episode": "E", "event": "conference_ready"}],
    "terminal": clean_episode(admitted="2025-03-20T08:40", ready="2025-03-24T10:00", discharged="2025-03-27T11:00",
                              plan="2025-03-21T11:00", destination="home") + [
        {"at": "2025-03-25T12:00", "episode": "E", "event": "terminal", "wishes_to_stay": True}],
    "correspondence one weekday late": clean_episode() + [
        {"at": "2025-03-26T10:00", "episode": "E", "event": "correspondence_sent", "id": "Q", "sender": "hospital",
         "subject": "Hjælpemidler"},
        {"at": "2025-03-27T10:00", "episode": "E", "event": "correspondence_sent", "id": "A",
         "sender": "municipality", "reply_to": "Q", "subject": "Sv: Hjælpemidler"}],
    "no care plan, tiered rates": without(clean_episode(ready="2025-03-24T10:00", discharged="2025-03-28T11:00"),
                                          "care_plan_sent", "care_plan_ack_sent") + [
        {"at": "2025-03-24T10:30", "episode": "E", "event": "phone_call", "caller": "hospital", "topic": "ready"}],
    "rejected care plan, corrected": clean_episode() + [
        {"at": "2025-03-25T13:00", "episode": "E", "event": "care_plan_ack_sent", "id": "E-REJ", "ref": "E-CP",
         "decision": "reject", "reason": "Mangler oplysninger om medicin"},
        {"at": "2025-03-25T15:00", "episode": "E", "event": "care_plan_sent", "id": "E-CP2", "correction_of": "E-CP"}],
    "advice before the discharge": replace(clean_episode(), "discharge_advice_sent", at="2025-03-27T12:50"),
    "unplanned discharge, no ready time": [
        *without(replace(clean_episode(), "discharged", unplanned=True, destination="home"), "ready_for_discharge",
                 "care_plan_sent", "care_plan_ack_sent"),
        {"at": "2025-03-27T15:00", "episode": "E", "event": "phone_call", "caller": "hospital", "topic": "DIS-4"}],
    "seconds at the deadline": clean_episode(plan="2025-03-26T14:00:01", ready="2025-03-27T10:00:30",
                                             discharged="2025-03-27T13:00:59"),
    "death": [*without(clean_episode(), "discharged", "discharge_report_sent"),
              {"at": "2025-03-27T12:30", "episode": "E", "event": "deceased"}],
    "leave and a planned re-admission": [
        *clean_episode(),
        {"at": "2025-03-26T10:00", "episode": "E", "event": "leave_started"},
        {"at": "2025-03-26T18:00", "episode": "E", "event": "leave_ended"},
        {"at": "2025-03-28T09:00", "episode": "E2", "event": "admitted", "cpr": "2509479989", "municipality": "851",
         "planned": True},
        {"at": "2025-03-28T09:02", "episode": "E2", "event": "admission_advice_sent", "id": "E2-ADV"}],
    "department given as a code": replace(clean_episode(), "admitted", department=4711),
    # no OIOXML letter carries a leave notice: --formats oioxml states it in the side-car (M-NOTIFY: it is late)
    "late leave notices": [
        *clean_episode(),
        {"at": "2025-03-26T10:00", "episode": "E", "event": "leave_started"},
        {"at": "2025-03-27T10:05", "episode": "E", "event": "leave_notice_sent", "id": "E-LV1"},
        {"at": "2025-03-26T18:00", "episode": "E", "event": "leave_ended"},
        {"at": "2025-03-27T10:10", "episode": "E", "event": "leave_notice_sent", "id": "E-LV2"}],
}


def _comparable(report: dict) -> dict:
    """What must agree: per episode the rule ids, due and actual times, tax, disputable days and the 72-hour end."""
    out = {}
    for e in report["episodes"]:
        out[e["episode"]] = {
            "violations": sorted((v["rule"], v["due"], v["actual"]) for v in e["violations"]),
            "obligations": sorted((o["rule"], o.get("due")) for o in e["obligations"]),
            "tax": (e["completion_tax_days"], e["completion_tax_dkk"], e["disputable_days"]),
            "r72": e["extended_responsibility"],
            "stay": (e["admitted"], e["discharged"], e["state"]),
        }
    return out


@pytest.mark.parametrize("formats", ["national", "oioxml"])
@pytest.mark.parametrize("name", list(TIMELINES))
def test_build_then_replay_gives_the_same_report(name: str, formats: str, tmp_path: Path) -> None:
    policy = load_policy()
    timeline = write_timeline(tmp_path / "timeline.jsonl", TIMELINES[name])
    direct = read_file(timeline)
    assert direct.rejected == 0, direct.findings
    build(direct.events, tmp_path / "log", formats=formats)
    from_timeline = report_dict(replay(load_timeline(timeline), policy))
    log = load_log([tmp_path / "log"], ReadOptions(sent_before_event=False))
    assert log.rejected == 0, [f.text for f in log.findings]
    from_log = report_dict(replay(log, policy))
    assert _comparable(from_log) == _comparable(from_timeline)
    assert from_log["summary"] == from_timeline["summary"]


@pytest.mark.parametrize("name", list(TIMELINES))
def test_dispatch_by_kind_loses_nothing(name: str, tmp_path: Path) -> None:
    """Rules look only at the kinds they declare (no rule re-checks the kind): the engine offers each rule
    exactly the events of those kinds, in the order they arrive, whatever its dispatch table does."""
    timeline = write_timeline(tmp_path / "timeline.jsonl", TIMELINES[name])
    by_kind = report_dict(replay(load_timeline(timeline), load_policy()))
    offered = [Offered(rule) for rule in all_rules()]
    assert report_dict(replay(load_timeline(timeline), load_policy(), offered)) == by_kind


@pytest.mark.parametrize("formats", ["national", "oioxml"])
def test_a_build_is_the_same_bytes_every_time(formats: str, tmp_path: Path) -> None:
    """Every id a built message carries derives from the timeline (the acknowledgements' Provenance ids were
    random), so a build can be checked in, diffed and reproduced."""
    events = read_file(EXAMPLES / "timeline.jsonl").events  # receipts and acknowledgements among them
    build(events, tmp_path / "one", formats=formats)
    build(events, tmp_path / "two", formats=formats)
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    assert one == {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert len(one) > 5


Addresses = tuple[str | None, str | None]


def _addresses(data: bytes, wrappers: tuple[Addresses, ...] = ()) -> Iterator[tuple[Addresses, Addresses]]:
    """(a wrapper's sender and receiver, the message's own) for every wrapper around each message in `data`."""
    root = parse_bytes(data).getroot() if data.lstrip().startswith(b"<") else None
    if root is not None and wrapper_kind(root) is not None:
        for payload in unwrap(root, "w"):
            assert payload.data is not None
            yield from _addresses(payload.data, (*wrappers, (payload.sender, payload.receiver)))
        return
    (message,) = read_document(data, "m")
    yield from ((wrapper, (message.sender, message.receiver)) for wrapper in wrappers)


@pytest.mark.parametrize("wrap", ["vans", "sbdh"])
def test_a_built_wrapper_is_addressed_as_the_message_it_carries(wrap: str, tmp_path: Path) -> None:
    """`medcom build --wrap` addressed every wrapper from the hospital to the municipality, also around what the
    municipality sends (its admission reports, its acknowledgements, its receipts): half the examples' files."""
    build(read_file(EXAMPLES / "timeline.jsonl").events, tmp_path / "log", wrap=wrap)
    pairs = [pair for path in sorted((tmp_path / "log").iterdir()) if path.name != "events.jsonl"
             for pair in _addresses(path.read_bytes())]
    assert len(pairs) > 20
    assert [(w, m) for w, m in pairs if tuple(x and x.removeprefix("0088:") for x in w) != m] == []
