"""The project's own 34C schemas (medcom/schemas/oioxml/34C) and the 34C test messages.

Every sample validates with lxml and with xmlschema; targeted breakages of what the schemas hold certain are
rejected by both; what they leave open (unknown or missing clinical blocks) passes both.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import re
import sys
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

SCHEMA_DIR = Path(str(files("medcom") / "schemas" / "oioxml" / "34C"))
ENTRY = SCHEMA_DIR / "Emessage-34C.xsd"
DATA = Path(__file__).parent / "data" / "oioxml" / "34C"

M100 = "urn:oio:medcom:municipality:1.0.0"
M102 = "urn:oio:medcom:municipality:1.0.2"
M103 = "urn:oio:medcom:municipality:1.0.3"
VANS = "urn:oio:medcom:vans-envelope:1.0.4"
PREFIX = {M100: "m100", M102: "m102", M103: "m103"}
NS = {"m100": M100, "m102": M102, "m103": M103, "vans": VANS,
      "sbdh": "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader",
      "peppol": "http://peppol.eu/xsd/ticc/envelope/1.0"}

BARE = ["XDIS21_XD2134C.xml", "XDIS18_XD1834C.xml", "XDIS16_XD1634C.xml", "XDIS19_XD1934C.xml",
        "Emessage_two_letters.xml"]


@pytest.fixture(scope="module")
def lxml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(ENTRY), etree.XMLParser(no_network=True)))


@pytest.fixture(scope="module")
def xs_schema() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(ENTRY), allow="local")  # "local": no remote resource is ever fetched


def parse_bare(data: bytes) -> etree._Element:
    """A bare 34C Emessage: ISO-8859-1 without a declaration, so the encoding must be given."""
    return etree.fromstring(data, etree.XMLParser(encoding="iso-8859-1", no_network=True))


def sample(name: str) -> etree._Element:
    return parse_bare((DATA / name).read_bytes())


def verdicts(doc: etree._Element, lxml_schema: etree.XMLSchema, xs_schema: xmlschema.XMLSchema10) -> tuple[
        list[str], list[str]]:
    """The errors each validator reports (empty lists: valid)."""
    lxml_errors = [] if lxml_schema.validate(doc) else [e.message for e in lxml_schema.error_log]
    xs_errors = [f"{e.path}: {e.reason}" for e in xs_schema.iter_errors(doc)]
    return lxml_errors, xs_errors


def first(doc: etree._Element, path: str) -> etree._Element:
    found = doc.xpath(path, namespaces=NS)
    assert found, path
    return found[0]


def load_generator():
    spec = importlib.util.spec_from_file_location("make_34c_samples", DATA / "make_34c_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- compiling


def test_schemas_compile_from_the_folder_alone():
    """Every import and include is relative and inside the folder: xmlschema's sandbox refuses anything else."""
    schema = xmlschema.XMLSchema10(str(ENTRY), allow="sandbox")
    assert {M100, M102, M103} <= set(schema.maps.namespaces)
    for xsd in SCHEMA_DIR.glob("*.xsd"):
        locations = re.findall(r'schemaLocation="([^"]+)"', xsd.read_text(encoding="utf-8"))
        assert all("/" not in loc and ":" not in loc for loc in locations), (xsd.name, locations)
        assert all((SCHEMA_DIR / loc).exists() for loc in locations), (xsd.name, locations)


def test_entry_point_declares_the_root_and_the_four_bodies(xs_schema):
    names = ["Emessage", "ProgressOfCarePlan", "ReportOfDischarge", "ReportOfAdmission", "WarningOfDischarge"]
    assert {f"{{{M103}}}{name}" for name in names} <= set(xs_schema.maps.elements)


# ---------------------------------------------------------------- the samples


@pytest.mark.parametrize("name", BARE)
def test_bare_sample_is_valid_with_both_validators(name, lxml_schema, xs_schema):
    assert verdicts(sample(name), lxml_schema, xs_schema) == ([], [])


@pytest.mark.parametrize("name", BARE)
def test_bare_sample_is_latin1_without_declaration_and_holds_danish_letters(name):
    data = (DATA / name).read_bytes()
    assert data.lstrip().startswith(b"<Emessage") and b"<?xml" not in data
    assert all(ch.encode("iso-8859-1") in data for ch in "æøå")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def render(element: etree._Element, depth: int = 0) -> list[str]:
    """The README's tree notation: prefix:name per element; a run of equal siblings shown once + "... repeated xN"."""
    ns, local = element.tag[1:].split("}")
    lines = [f"{'  ' * depth}{PREFIX[ns]}:{local}"]
    children = list(element)
    i = 0
    while i < len(children):
        j = i
        while j + 1 < len(children) and children[j + 1].tag == children[i].tag:
            j += 1
        lines += render(children[i], depth + 1)
        if j > i:
            lines.append(f"{'  ' * (depth + 1)}... repeated x{j - i + 1}")
        i = j + 1
    return lines


def readme_tree(family: str) -> list[str]:
    text = (DATA / f"{family}.readme-tree.txt").read_text(encoding="utf-8")
    return [re.sub(r"\s+\[\w+\]$", "", line) for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize(("family", "name"), [("XDIS21", "XDIS21_XD2134C.xml"), ("XDIS18", "XDIS18_XD1834C.xml")])
def test_sample_follows_the_real_message_tree_element_by_element(family, name):
    assert render(sample(name)) == readme_tree(family)


def test_samples_are_what_the_generator_writes():
    generated = load_generator().samples()
    on_disk = {p.name for p in DATA.glob("*.xml")}
    assert set(generated) == on_disk
    for name, data in generated.items():
        assert (DATA / name).read_bytes() == data, f"{name}: run make_34c_samples.py again"


# ---------------------------------------------------------------- wrappers


def vans_payload(data: bytes) -> tuple[etree._Element, bytes]:
    envelope = etree.fromstring(data)
    assert envelope.tag == f"{{{VANS}}}VANSEnvelope"
    return envelope, base64.b64decode(first(envelope, "vans:Message/vans:Data").text, validate=True)


def sbdh_payload(data: bytes) -> tuple[etree._Element, bytes]:
    document = etree.fromstring(data)
    return document, base64.b64decode(first(document, "peppol:BinaryContent").text)


@pytest.mark.parametrize(("stem", "family", "version"), [("XDIS21_XD2134C", "XDIS21", "XD2134C"),
                                                         ("XDIS18_XD1834C", "XDIS18", "XD1834C")])
def test_vans_envelope_carries_the_bare_message_exactly(stem, family, version):
    bare = (DATA / f"{stem}.xml").read_bytes()
    envelope, payload = vans_payload((DATA / f"{stem}.vans.xml").read_bytes())
    assert payload == bare
    document = first(envelope, "vans:Message/vans:MetaInformation/vans:Document")
    assert [c.text for c in document] == ["XML", family, version, str(len(bare))]
    assert {e.get("EndPointType") for e in envelope.xpath("vans:SenderID|vans:ReceiverID", namespaces=NS)} == {"EAN"}
    sender_ean = first(parse_bare(bare), "//m100:Sender/m100:EANIdentifier").text
    assert first(envelope, "vans:SenderID").text == sender_ean


@pytest.mark.parametrize("stem", ["XDIS21_XD2134C", "XDIS18_XD1834C"])
def test_sbdh_carries_the_bare_message_exactly(stem):
    bare = (DATA / f"{stem}.xml").read_bytes()
    document, payload = sbdh_payload((DATA / f"{stem}.sbdh.xml").read_bytes())
    assert payload == bare
    sender = first(document, "sbdh:StandardBusinessDocumentHeader/sbdh:Sender/sbdh:Identifier").text
    assert sender == "0088:" + first(parse_bare(bare), "//m100:Sender/m100:EANIdentifier").text
    ident = first(document, "sbdh:StandardBusinessDocumentHeader/sbdh:DocumentIdentification")
    assert [c.tag.split("}")[1] for c in ident][:4] == ["Standard", "TypeVersion", "InstanceIdentifier", "Type"]


@pytest.mark.parametrize("stem", ["XDIS21_XD2134C", "XDIS18_XD1834C"])
def test_sbdh_carries_the_vans_envelope_exactly_and_it_the_bare_message(stem):
    vans = (DATA / f"{stem}.vans.xml").read_bytes()
    _, payload = sbdh_payload((DATA / f"{stem}.sbdh-vans.xml").read_bytes())
    assert payload == vans
    assert vans_payload(payload)[1] == (DATA / f"{stem}.xml").read_bytes()


# ---------------------------------------------------------------- what the schemas hold certain


def set_text(path: str, value: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        first(doc, path).text = value
    return mutate


def rename(path: str, tag: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        first(doc, path).tag = tag
    return mutate


def remove(path: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        element = first(doc, path)
        element.getparent().remove(element)
    return mutate


def insert_after(path: str, tag: str, text: str | None = None) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        element = first(doc, path)
        new = etree.Element(tag)
        new.text = text
        element.addnext(new)
    return mutate


CARE_PLAN = "/m103:Emessage/m103:ProgressOfCarePlan"
DISCHARGE = "/m103:Emessage/m103:ReportOfDischarge"
BREAKAGES = {
    "Patient in the 1.0.3 namespace": ("XDIS21_XD2134C.xml", rename(f"{CARE_PLAN}/m100:Patient", f"{{{M103}}}Patient")),
    "Sender in no namespace": ("XDIS18_XD1834C.xml", rename(f"{DISCHARGE}/m100:Sender", "Sender")),
    "Letter with a StatusCode": ("XDIS21_XD2134C.xml", insert_after(f"{CARE_PLAN}/m103:Letter/m103:TypeCode",
                                                                    f"{{{M103}}}StatusCode", "nytbrev")),
    "malformed date": ("XDIS21_XD2134C.xml", set_text(f"{CARE_PLAN}/m100:Admission/m100:Date", "2021-3-5")),
    "day-first date": ("XDIS18_XD1834C.xml", set_text(f"{DISCHARGE}/m100:Discharge/m100:Date", "11-03-2021")),
    "impossible date": ("XDIS21_XD2134C.xml", set_text("/m103:Emessage/m100:Envelope/m100:Sent/m100:Date",
                                                       "2021-02-30")),
    "date with a time zone": ("XDIS18_XD1834C.xml", set_text(f"{DISCHARGE}/m100:Admission/m100:Date",
                                                             "2021-03-05+01:00")),
    "time 25:00": ("XDIS21_XD2134C.xml", set_text(f"{CARE_PLAN}/m100:Admission/m100:Time", "25:00")),
    "time 25:00 in the letter's authorisation": ("XDIS18_XD1834C.xml", set_text(
        f"{DISCHARGE}/m103:Letter/m103:Authorisation/m100:Time", "25:00")),
    "time without minutes": ("XDIS19_XD1934C.xml", set_text("//m100:PlannedDischarge/m100:Time", "10")),
    "time 25:00 in the open clinical part (1.0.2)": ("XDIS21_XD2134C.xml", set_text(
        f"{CARE_PLAN}/m102:ExpectedEndOfTreatment/m102:Time", "25:00")),
    "malformed date deep in the open clinical part": ("XDIS21_XD2134C.xml", set_text(
        "//m103:DischargeConference/m103:Date", "09-03-2021")),
    "ExpectedEndOfTreatment with a 1.0.0 Date": ("XDIS21_XD2134C.xml", rename(
        f"{CARE_PLAN}/m102:ExpectedEndOfTreatment/m102:Date", f"{{{M100}}}Date")),
    "EndOfTreatment without its Time": ("XDIS18_XD1834C.xml", remove(f"{DISCHARGE}/m100:EndOfTreatment/m100:Time")),
    "CPR with 9 digits": ("XDIS21_XD2134C.xml", set_text(f"{CARE_PLAN}/m100:Patient/m100:CivilRegistrationNumber",
                                                         "250947998")),
    "CPR with 31 February": ("XDIS18_XD1834C.xml", set_text(
        f"{DISCHARGE}/m100:Patient/m100:CivilRegistrationNumber", "3102479989")),
    "EAN with 12 digits": ("XDIS21_XD2134C.xml", set_text(f"{CARE_PLAN}/m100:Sender/m100:EANIdentifier",
                                                          "579000018204")),
    "EAN with a letter": ("XDIS18_XD1834C.xml", set_text(f"{DISCHARGE}/m100:Receiver/m100:EANIdentifier",
                                                         "57900001215X7")),
    "care plan with the discharge report's VersionCode": ("XDIS21_XD2134C.xml", set_text(
        f"{CARE_PLAN}/m103:Letter/m103:VersionCode", "XD1834C")),
    "discharge report with the 2007 VersionCode": ("XDIS18_XD1834C.xml", set_text(
        f"{DISCHARGE}/m103:Letter/m103:VersionCode", "XD1830C")),
    "completion notice with the care plan's TypeCode": ("XDIS19_XD1934C.xml", set_text(
        "//m103:Letter/m103:TypeCode", "XDIS21")),
    "second letter with a wrong VersionCode": ("Emessage_two_letters.xml", set_text(
        "/m103:Emessage/m103:WarningOfDischarge/m103:Letter/m103:VersionCode", "XD1634C")),
    "missing Envelope": ("XDIS21_XD2134C.xml", remove("/m103:Emessage/m100:Envelope")),
    "Envelope without AcknowledgementCode": ("XDIS16_XD1634C.xml", remove("//m100:AcknowledgementCode")),
    "unknown AcknowledgementCode": ("XDIS16_XD1634C.xml", set_text("//m100:AcknowledgementCode", "ja")),
    "envelope identifier of 15 characters": ("XDIS18_XD1834C.xml", set_text(
        "/m103:Emessage/m100:Envelope/m100:Identifier", "E21031110301234")),
    "letter identifier of 15 characters": ("XDIS21_XD2134C.xml", set_text(
        f"{CARE_PLAN}/m103:Letter/m103:Identifier", "L21030810401234")),
    "episode id with a space": ("XDIS21_XD2134C.xml", set_text(
        f"{CARE_PLAN}/m103:Letter/m103:EpisodeOfCareIdentifier", "4f0a9c2e 7d1b4e6a")),
    "episode id of 36 characters": ("XDIS18_XD1834C.xml", set_text(
        f"{DISCHARGE}/m103:Letter/m103:EpisodeOfCareIdentifier", "4f0a9c2e-7d1b-4e6a-9c3f-5b8d2e1a7c60")),
    "Patient without a CPR number": ("XDIS18_XD1834C.xml", remove(
        f"{DISCHARGE}/m100:Patient/m100:CivilRegistrationNumber")),
    "unknown letter body": ("XDIS21_XD2134C.xml", rename(CARE_PLAN, f"{{{M103}}}ClinicalEmail")),
    "Emessage without letters": ("XDIS21_XD2134C.xml", remove(CARE_PLAN)),
    "Break with content": ("XDIS18_XD1834C.xml", lambda doc: etree.SubElement(
        first(doc, "//m103:ProblemArea/m100:Break"), f"{{{M100}}}Break")),
}


@pytest.mark.parametrize("case", BREAKAGES)
def test_breakage_is_rejected_by_both_validators(case, lxml_schema, xs_schema):
    name, mutate = BREAKAGES[case]
    doc = sample(name)
    assert verdicts(doc, lxml_schema, xs_schema) == ([], [])
    mutate(doc)
    lxml_errors, xs_errors = verdicts(doc, lxml_schema, xs_schema)
    assert lxml_errors, f"lxml accepted: {case}"
    assert xs_errors, f"xmlschema accepted: {case}"


# ---------------------------------------------------------------- what the schemas leave open


def add_child(path: str, tag: str, text: str | None = None, index: int | None = None) -> Callable[
        [etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        parent = first(doc, path)
        new = etree.Element(tag)
        new.text = text
        parent.insert(len(parent) if index is None else index, new)
    return mutate


def duplicate(path: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        element = first(doc, path)
        element.addnext(copy.deepcopy(element))
    return mutate


def remove_all(*paths: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        for path in paths:
            remove(path)(doc)
    return mutate


TOLERATED = {
    "unknown 1.0.3 block in the middle of the clinical part": ("XDIS21_XD2134C.xml", insert_after(
        f"{CARE_PLAN}/m100:Admission", f"{{{M103}}}SpecialCoordinationReason", "Kompleks udskrivelse.")),
    "unknown block of a later namespace at the end": ("XDIS18_XD1834C.xml", add_child(
        DISCHARGE, "{urn:oio:medcom:municipality:1.0.4}FutureAgreements", "Behandlingsniveau aftalt.")),
    "discharge report with medicine and clinical information": ("XDIS18_XD1834C.xml", add_child(
        DISCHARGE, f"{{{M103}}}Medicine", "Se FMK.")),
    "unknown element in Patient's tail": ("XDIS21_XD2134C.xml", add_child(
        f"{CARE_PLAN}/m100:Patient", f"{{{M100}}}EpisodeOfCareStatusCode", "indlagt")),
    "unknown element in Sender's tail": ("XDIS18_XD1834C.xml", insert_after(
        f"{DISCHARGE}/m100:Sender/m100:IdentifierCode", f"{{{M100}}}AnswerTo")),
    "unknown child of FurtherCoordination": ("XDIS21_XD2134C.xml", add_child(
        "//m103:FurtherCoordination", f"{{{M103}}}TransportNeeds", "Liggende transport.", index=0)),
    "DischargeConference without a date": ("XDIS21_XD2134C.xml", remove_all(
        "//m103:DischargeConference/m103:Date", "//m103:DischargeConference/m103:Time")),
    "clinical blocks missing": ("XDIS21_XD2134C.xml", remove_all(
        f"{CARE_PLAN}/m103:Relatives", f"{CARE_PLAN}/m103:DietFirst24Hours", f"{CARE_PLAN}/m100:RiskOfContagion",
        f"{CARE_PLAN}/m103:NursingProblemAreas")),
    "no Practitioner": ("XDIS18_XD1834C.xml", remove(f"{DISCHARGE}/m100:Practitioner")),
    "clinical blocks in another order": ("XDIS21_XD2134C.xml", lambda doc: first(doc, CARE_PLAN).append(
        first(doc, f"{CARE_PLAN}/m100:Admission"))),
    "a second diagnosis": ("XDIS18_XD1834C.xml", duplicate("//m103:Diagnoses/m103:Diagnosis")),
    "a second relative": ("XDIS21_XD2134C.xml", duplicate("//m103:Relatives/m103:Relative")),
    "a copy receiver": ("XDIS18_XD1834C.xml", lambda doc: first(doc, f"{DISCHARGE}/m100:Receiver").addnext(
        etree.fromstring(f'<CCReceiver xmlns="{M100}"><Identifier>012345</Identifier>'
                         "<IdentifierCode>ydernummer</IdentifierCode></CCReceiver>"))),
    "replacement CPR number": ("XDIS21_XD2134C.xml", set_text(
        f"{CARE_PLAN}/m100:Patient/m100:CivilRegistrationNumber", "2509477AB3")),
    "CPR with 29 February": ("XDIS21_XD2134C.xml", set_text(
        f"{CARE_PLAN}/m100:Patient/m100:CivilRegistrationNumber", "2902521234")),
    "times with seconds": ("XDIS21_XD2134C.xml", set_text(f"{CARE_PLAN}/m100:AgreedDischarge/m100:Time", "10:00:00")),
    "letter without an episode id": ("XDIS18_XD1834C.xml", remove(
        f"{DISCHARGE}/m103:Letter/m103:EpisodeOfCareIdentifier")),
    "a local episode id": ("XDIS16_XD1634C.xml", set_text("//m103:Letter/m103:EpisodeOfCareIdentifier", "24681012")),
    "an IdentifierCode older generations do not list": ("XDIS18_XD1834C.xml", set_text(
        f"{DISCHARGE}/m100:Receiver/m100:IdentifierCode", "kommunekode")),
    "a long organisation name": ("XDIS21_XD2134C.xml", set_text(
        f"{CARE_PLAN}/m100:Receiver/m100:OrganisationName",
        "Ringkøbing-Skjern Kommune, Sundhed og Omsorg, Visitation")),
    "bold text in a problem area": ("XDIS18_XD1834C.xml", add_child(
        "//m103:ProblemArea", f"{{{M100}}}Bold", "Vigtigt", index=0)),
    "white space around identifiers": ("XDIS21_XD2134C.xml", set_text(
        f"{CARE_PLAN}/m100:Patient/m100:CivilRegistrationNumber", "\n  2509479989\n  ")),
}


@pytest.mark.parametrize("case", TOLERATED)
def test_open_content_is_tolerated_by_both_validators(case, lxml_schema, xs_schema):
    name, mutate = TOLERATED[case]
    doc = sample(name)
    mutate(doc)
    assert verdicts(doc, lxml_schema, xs_schema) == ([], [])
