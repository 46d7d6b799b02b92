"""Typed reading of MedCom's FHIR messages, and the Acknowledgement that answers one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from helpers.fhir import ACK, ADMISSION, CARE, DATA, HOSPITAL, load, mutated, resource

from medcom.formats.fhir import validate_resource
from medcom.formats.fhir.acknowledge import build_acknowledgement
from medcom.formats.fhir.messages import (
    Acknowledgement,
    CareCommunication,
    HospitalNotification,
    read_message,
    split_oioxml_reference,
)

CEST = timezone(timedelta(hours=2))

# Each example's code, as the reference README describes the twelve (file -> MedCom code).
NOTIFICATION_CODES = {
    "Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json": "STIN",
    "Bundle-bfab3e80-9584-11ec-b909-0242ac120002.json": "RE_STIN",
    "Bundle-c83671a4-9584-11ec-b909-0242ac120002.json": "AN_STIN",
    "Bundle-d3128d9b-cede-4c7f-8904-809eab322d7d.json": "STOR",
    "Bundle-e94de8ee-bd94-475e-b454-b8fbbef8a685.json": "SLOR",
    "Bundle-f4aa42a4-86db-4e68-9b38-9dda0dfd5774.json": "SLHJ",  # inpatient
    "Bundle-g099bbf3-3fca-4722-a248-bfe1aa956410.json": "MORS",  # inpatient
    "Bundle-h1c8e4a8-6b45-4669-94ad-2a99ad96bf03.json": "STAA",
    "Bundle-kcab461b-f44e-4d97-a041-ef7e64800587.json": "SLHJ",  # emergency
    "Bundle-ld31e08a-b91f-49c3-841a-ce80e6380517.json": "MORS",  # emergency
    "Bundle-m908i967-9ie3-9023-b9ec-98108695f01d.json": "STIN",
    "Bundle-n73ccf30-80b9-4bd2-bf50-1ac1914498f0.json": "STIN",  # with an LPR3 episode id
}


def test_the_twelve_examples_are_all_there() -> None:
    assert sorted(p.name for p in HOSPITAL.glob("*.json")) == sorted(NOTIFICATION_CODES)


@pytest.mark.parametrize(("name", "code"), sorted(NOTIFICATION_CODES.items()))
def test_each_hospital_notification_example_gives_its_code(name: str, code: str) -> None:
    message = read_message(load(HOSPITAL / name))
    assert isinstance(message, HospitalNotification)
    assert message.code == code
    assert message.problems == ()
    assert message.cpr == "2509479989"
    assert message.event_time is not None


def test_hospital_notification_facts() -> None:
    message = read_message(load(ADMISSION))
    assert isinstance(message, HospitalNotification)
    assert message.header.message_id == "b9b4818e-02de-4cc4-b418-d20cbc7b5404"
    assert message.header.timestamp == datetime(2022, 12, 7, 12, 0, 1, tzinfo=CEST)
    assert message.header.activity == "admit-inpatient"
    assert (message.encounter_class, message.encounter_status) == ("IMP", "in-progress")
    assert message.event_time == datetime(2022, 12, 7, 12, 0, tzinfo=CEST)
    assert message.header.sender.sor == "265161000016000" and message.header.sender.gln == "5790000209354"
    assert message.header.receiver.sor == "953741000016009" and message.header.receiver.gln == "5790001348120"
    assert [(e.kind, e.system, e.value) for e in message.episode_of_care] == [
        ("local", "https://sor2.sum.dsdn.dk/#id=265161000016000", "bd481c38-a921-11ed-afa1-0242ac120002")]
    assert not message.deceased


def test_leave_times_come_from_the_leave_period_extension() -> None:
    start = read_message(load(HOSPITAL / "Bundle-d3128d9b-cede-4c7f-8904-809eab322d7d.json"))
    end = read_message(load(HOSPITAL / "Bundle-e94de8ee-bd94-475e-b454-b8fbbef8a685.json"))
    assert start.event_time == datetime(2022, 12, 13, 14, 0, 10, tzinfo=CEST)
    assert end.event_time == datetime(2022, 12, 14, 15, 30, tzinfo=CEST)
    assert end.revises == ("MessageHeader/e563a2b2-bf92-4b13-bbd2-0a021a95bded",)


def test_both_episode_ids_lpr3_and_local_are_read_with_their_systems() -> None:
    message = read_message(load(HOSPITAL / "Bundle-n73ccf30-80b9-4bd2-bf50-1ac1914498f0.json"))
    assert [e.kind for e in message.episode_of_care] == ["lpr3", "local"]
    assert message.episode_of_care[0].system == "https://www.esundhed.dk/Registre/Landspatientregisteret"


def test_death_is_mors_with_its_revise_and_cancel_forms() -> None:
    def revise(bundle: dict) -> None:
        provenance = next(p for p in (e["resource"] for e in bundle["entry"]) if p["resourceType"] == "Provenance"
                          and p["target"][0]["reference"].endswith(bundle["entry"][0]["resource"]["id"]))
        provenance["activity"]["coding"][0]["code"] = "revise-admit-inpatient"
    message = read_message(mutated(HOSPITAL / "Bundle-g099bbf3-3fca-4722-a248-bfe1aa956410.json", revise))
    assert message.code == "RE_MORS"


def test_disagreeing_class_and_status_are_problems() -> None:
    bundle = mutated(ADMISSION, lambda b: resource(b, "Encounter").update(
        {"status": "finished", "class": {"code": "EMER"}}))
    assert [(p.rule, p.text, p.path) for p in read_message(bundle).problems] == [
        ("F-EVENT-CLASS", "activity admit-inpatient with Encounter.class EMER (expected IMP)",
         ("entry", 2, "resource", "class")),
        ("F-EVENT-STATUS", "STIN (activity admit-inpatient) with Encounter.status finished (expected in-progress)",
         ("entry", 2, "resource", "status"))]


def test_care_communication_facts_and_reply_chain() -> None:
    message = read_message(load(CARE / "Bundle-3dcb5618-3055-406a-9034-1b8fc8de0fea.json"))
    assert isinstance(message, CareCommunication)
    assert (message.category, message.topic, message.header.activity) == (
        "examination-results", "Forspørgsel på seneste resultater", "reply-message")
    assert [r.message_id for r in message.replies_to] == ["d5bd2111-2576-48d3-84d4-8be0297a038d"]
    assert [s.activity for s in message.provenance] == ["reply-message", "reply-message", "new-message"]
    assert message.cpr == "2509479989"


def test_care_communication_priority_and_episode() -> None:
    message = read_message(load(CARE / "Bundle-gfd00bc2-9c26-4174-934e-f6e4360845de.json"))
    assert (message.category, message.priority) == ("regarding-referral", "asap")
    assert [e.value for e in message.episode_of_care] == ["gfd00bc2-9c26-4174-934e-f6e4360845de"]


def test_reply_to_an_oioxml_letter_in_medcoms_own_order() -> None:
    message = read_message(load(CARE / "Bundle-k7bfbc0c-553d-11ed-bdc3-0242ac120002.json"))
    [reference] = message.replies_to
    assert (reference.location_number, reference.letter_id) == ("5790000121526", "B300720181623")


@pytest.mark.parametrize("value", ["5790000121526#B300720181623", "B300720181623#5790000121526"])
def test_oioxml_reference_in_either_order(value: str) -> None:
    assert split_oioxml_reference(value) == ("5790000121526", "B300720181623")


def test_oioxml_reference_without_a_valid_gln_keeps_the_documented_order() -> None:
    assert split_oioxml_reference("1234#5678") == ("1234", "5678")
    assert split_oioxml_reference("no-hash") == (None, None)


def test_acknowledgement_facts() -> None:
    message = read_message(load(ACK / "Bundle-bc9535ef-ed94-4060-a928-7baddec7ee71.json"))
    assert isinstance(message, Acknowledgement)
    assert (message.acknowledged_id, message.response_code) == ("53128d9b-cede-4c7f-8904-809eab322d7d", "fatal-error")
    assert message.issues == ("MSG_VALUESET_VALUE_UNKNOWN: The value provided is not in the valueSet",)


def test_unreadable_or_other_messages_give_none_or_empty_facts() -> None:
    assert read_message([]) is None
    assert read_message({"resourceType": "Patient"}) is None
    broken = read_message({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MessageHeader", "eventCoding": {"code": "hospital-notification-message"}}}, 5, None]})
    assert isinstance(broken, HospitalNotification) and broken.code is None and broken.cpr is None


@pytest.mark.parametrize("path", sorted(DATA.glob("*/*.json")), ids=lambda p: p.name)
@pytest.mark.parametrize(("code", "issues"), [("ok", ()), ("fatal-error", ("Ukendt modtager", "CPR mangler"))])
def test_acknowledgement_answering_each_example_validates(path, code: str, issues: tuple) -> None:  # noqa: ANN001
    original = load(path)
    answer = build_acknowledgement(original, code, issues, now=datetime(2024, 5, 1, 12, 0, tzinfo=CEST))
    result = validate_resource(answer, "ack.json")
    assert result.findings == [], [f"{f.xpath}: {f.text}" for f in result.findings]
    read = read_message(answer)
    assert read.acknowledged_id == original["entry"][0]["resource"]["id"]
    assert (read.response_code, read.issues) == (code, issues)
    assert read.header.sender.sor == read_message(original).header.receiver.sor if read_message(original) else True


def test_no_acknowledgement_without_a_message_header_to_answer() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=CEST)
    assert build_acknowledgement({"resourceType": "Bundle"}, now=now) is None
    with pytest.raises(ValueError, match="response code"):
        build_acknowledgement(load(ADMISSION), "maybe", now=now)
