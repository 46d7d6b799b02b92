"""Write MedCom FHIR messages (HospitalNotification, CareCommunication) for `medcom build` and the simulation.

Each message starts from MedCom's own example Bundle of its kind (shipped in the IG packages, so the shape is the
IG's), with every resource id renewed and every fact replaced: ids, times, patient, episode of care, sender and
receiver, the Provenance (activity and the message it revises or replies to), the text. Narratives are rewritten
from the new facts, so nothing of the example's people is left. Each written Bundle validates against its profile
(tested); the inverse is `messages.read_message`.
"""

from __future__ import annotations

import html
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from medcom.formats.fhir.igpackages import example
from medcom.formats.fhir.messages import ACTIVITY_SYSTEM, CPR_SYSTEM, GLN_SYSTEM, LEAVE_EXTENSION, SOR_SYSTEM

HN_PACKAGE = "medcom.fhir.dk.hospitalnotification"
CC_PACKAGE = "medcom.fhir.dk.carecommunication"
# MedCom's example of each notification: activity code, example file.
NOTIFICATIONS = {
    "STIN": ("admit-inpatient", "Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json"),
    "STOR": ("start-leave-inpatient", "Bundle-d3128d9b-cede-4c7f-8904-809eab322d7d.json"),
    "SLOR": ("end-leave-inpatient", "Bundle-e94de8ee-bd94-475e-b454-b8fbbef8a685.json"),
    "SLHJ": ("discharge-inpatient-home", "Bundle-f4aa42a4-86db-4e68-9b38-9dda0dfd5774.json"),
    "MORS": ("discharge-inpatient-home", "Bundle-g099bbf3-3fca-4722-a248-bfe1aa956410.json"),
}
CARE_COMMUNICATION = "Bundle-k7bfbc0c-553d-11ed-bdc3-0242ac120002.json"
XHTML = "http://www.w3.org/1999/xhtml"


@dataclass(frozen=True, slots=True)
class Organisation:
    """A sender or receiver: SOR code, location number (GLN), name."""

    sor: str
    gln: str
    name: str


@cache
def _template(package: str, name: str) -> str:
    return example(package, name).decode("utf-8")


def uuid_of(*parts: str) -> str:
    """A stable UUID for the parts (build output is deterministic)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "medcom:" + "/".join(parts)))


def episode_uuid(episode_id: str) -> str:
    """A 32-hex episode-of-care id written as the hyphenated UUID FHIR messages carry."""
    h = episode_id.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}" if len(h) == 32 else episode_id


def _renewed(text: str, seed: str) -> dict:
    """The template with every resource id (and the Bundle id) replaced by one derived from `seed`."""
    bundle = json.loads(text)
    ids = [bundle["id"], *(e["resource"]["id"] for e in bundle["entry"])]
    for old in ids:
        text = text.replace(old, uuid_of(seed, old))
    return json.loads(text)


def _time(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _by_reference(bundle: dict, reference: str) -> dict:
    kind, _, ident = reference.rpartition("/")
    return next(r for r in _resources(bundle, kind) if r["id"] == ident)


def _narrative(resource: dict, text: str) -> None:
    resource["text"] = {"status": "generated", "div": f'<div xmlns="{XHTML}"><p>{html.escape(text)}</p></div>'}


def _set_party(bundle: dict, header: dict, sender: Organisation, receiver: Organisation) -> None:
    for reference, org in ((header["sender"]["reference"], sender),
                           (header["destination"][0]["receiver"]["reference"], receiver)):
        resource = _by_reference(bundle, reference)
        resource["name"] = org.name
        resource["identifier"] = [{"system": GLN_SYSTEM, "value": org.gln}, {"system": SOR_SYSTEM, "value": org.sor}]
        _narrative(resource, org.name)
    header["destination"][0]["endpoint"] = f"https://sor2.sum.dsdn.dk/#id={receiver.sor}"
    header["source"]["endpoint"] = f"https://sor2.sum.dsdn.dk/#id={sender.sor}"


def _set_patient(bundle: dict, cpr: str, deceased: bool | None = None) -> None:
    for patient in _resources(bundle, "Patient"):
        patient["identifier"] = [{"system": CPR_SYSTEM, "value": cpr}]
        patient["name"] = [{"use": "official", "family": "(ikke oplyst)"}]
        if deceased is not None:
            patient.pop("deceasedBoolean", None)
            if deceased:
                patient["deceasedBoolean"] = True
        _narrative(patient, "Patient")


def _set_provenance(bundle: dict, header: dict, activity: str, at: datetime, recorded: datetime,
                    revises: list[dict]) -> None:
    target = f"MessageHeader/{header['id']}"
    for provenance in _resources(bundle, "Provenance"):
        if not any(t.get("reference") == target for t in provenance.get("target", [])):
            continue
        provenance["occurredDateTime"] = _time(at)
        provenance["recorded"] = _time(recorded)
        provenance["activity"] = {"coding": [{"system": ACTIVITY_SYSTEM, "code": activity}]}
        if revises:
            provenance["entity"] = revises
        else:
            provenance.pop("entity", None)
        _narrative(provenance, f"{activity} {_time(at)}")
    # The example's Provenance of earlier messages describes them, not ours: only the current one stays.
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Provenance"
                       or any(t.get("reference") == target for t in e["resource"].get("target", []))]


def hospital_notification(code: str, *, message_id: str, sent: datetime, admitted_at: datetime,
                          event_at: datetime, episode_id: str, cpr: str, sender: Organisation,
                          receiver: Organisation, revises: str | None = None,
                          leave_start: datetime | None = None, form: str = "") -> dict:
    """A HospitalNotification Bundle: STIN (admission at `event_at`), STOR/SLOR (leave starts/ends at `event_at`;
    SLOR's leave started at `leave_start`), SLHJ (discharge home at `event_at`), MORS (death at `event_at`).
    `revises`: the MessageHeader id of the admission (or earlier notification) it follows. `form`: "revise-"
    (RE_: a correction of the notification `revises` names) or "cancel-" (AN_: its cancellation)."""
    activity, example = NOTIFICATIONS[code]
    activity = form + activity
    bundle = _renewed(_template(HN_PACKAGE, example), message_id)
    header = _resources(bundle, "MessageHeader")[0]
    bundle["timestamp"] = _time(sent)
    _set_party(bundle, header, sender, receiver)
    _set_patient(bundle, cpr, deceased=code == "MORS")
    encounter = _resources(bundle, "Encounter")[0]
    encounter["episodeOfCare"] = [{"identifier": {"system": f"https://sor2.sum.dsdn.dk/#id={sender.sor}",
                                                  "value": episode_uuid(episode_id)}}]
    encounter["period"] = {"start": _time(admitted_at if code != "STIN" else event_at)}
    if code in ("SLHJ", "MORS"):
        encounter["period"]["end"] = _time(event_at)
    if code in ("STOR", "SLOR"):
        leave = {"start": _time(leave_start or event_at)} if code == "SLOR" else {"start": _time(event_at)}
        if code == "SLOR":
            leave["end"] = _time(event_at)
        encounter["extension"] = [{"url": LEAVE_EXTENSION, "valuePeriod": leave}]
    if form == "cancel-":  # AN_: the notified encounter was entered in error (MedCom's cancellation example)
        encounter["status"] = "entered-in-error"
    _narrative(encounter, f"{code} {_time(event_at)}")
    _narrative(header, f"HospitalNotification {code}")
    entity = [{"role": "revision", "what": {"reference": f"MessageHeader/{revises}"}}] if revises else []
    _set_provenance(bundle, header, activity, event_at, sent, entity)
    return bundle


def care_communication(*, message_id: str, sent: datetime, cpr: str, sender: Organisation, receiver: Organisation,
                       topic: str, text: str, episode_id: str | None = None, category: str = "carecoordination",
                       reply_to_message: str | None = None, reply_to_letter: tuple[str, str] | None = None) -> dict:
    """A CareCommunication Bundle: a new message, or a reply to a FHIR message (its MessageHeader id) or to an
    OIOXML letter ((location number, letter id), written 'brevid#lokationsnummer' as MedCom's example does)."""
    bundle = _renewed(_template(CC_PACKAGE, CARE_COMMUNICATION), message_id)
    header = _resources(bundle, "MessageHeader")[0]
    bundle["timestamp"] = _time(sent)
    _set_party(bundle, header, sender, receiver)
    _set_patient(bundle, cpr)
    communication = _resources(bundle, "Communication")[0]
    communication["identifier"] = [{"value": f"urn:uuid:{uuid_of(message_id, 'communication')}"}]
    communication["category"] = [{"coding": [{"system": communication["category"][0]["coding"][0]["system"],
                                              "code": category}]}]
    communication["topic"] = {"text": topic[:60]}
    payload = communication["payload"][0]
    payload["contentString"] = text
    for extension in payload["extension"]:
        if "valueDateTime" in extension:
            extension["valueDateTime"] = _time(sent)
        if "valueIdentifier" in extension:
            extension["valueIdentifier"]["value"] = f"urn:uuid:{uuid_of(message_id, 'payload')}"
    _narrative(communication, topic)
    for person in _resources(bundle, "Practitioner"):
        person["name"] = [{"family": "(ikke oplyst)"}]
        _narrative(person, "Practitioner")
    for role in _resources(bundle, "PractitionerRole"):
        role["organization"] = {"reference": header["sender"]["reference"]}
        _narrative(role, "PractitionerRole")
    encounter = _resources(bundle, "Encounter")
    if episode_id and encounter:
        encounter[0]["episodeOfCare"] = [{"identifier": {"system": f"https://sor2.sum.dsdn.dk/#id={sender.sor}",
                                                         "value": episode_uuid(episode_id)}}]
        _narrative(encounter[0], "Encounter")
    elif encounter:
        bundle["entry"] = [e for e in bundle["entry"] if e["resource"] is not encounter[0]]
        communication.pop("encounter", None)
    _narrative(header, "CareCommunication")
    source = {"role": "source", "what": {"identifier": {"value": f"urn:uuid:{uuid_of(message_id, 'source')}"}}}
    if reply_to_message:
        revision = {"role": "revision", "what": {"reference": f"MessageHeader/{reply_to_message}"}}
    elif reply_to_letter:
        revision = {"role": "revision", "what": {"identifier": {"value": f"{reply_to_letter[1]}#{reply_to_letter[0]}"}}}
    else:
        revision = None
    _set_provenance(bundle, header, "reply-message" if revision else "new-message", sent, sent,
                    [source, revision] if revision else [source])
    return bundle


def header_id(bundle: dict) -> str:
    """The MessageHeader id of a written Bundle (the id replay and receipts know the message by)."""
    return _resources(bundle, "MessageHeader")[0]["id"]


def to_json(bundle: dict) -> bytes:
    return json.dumps(bundle, indent=2, ensure_ascii=False).encode("utf-8")
