"""Write the synthetic MedCom "34C" test messages in this folder, deterministically.

    python tests/data/oioxml/34C/make_34c_samples.py [--out DIR]

The XDIS21 (XD2134C care plan) and XDIS18 (XD1834C discharge report) follow, element by element, the trees of the
real messages in XDIS21.readme-tree.txt and XDIS18.readme-tree.txt (this folder); XDIS16 (XD1634C) and XDIS19
(XD1934C) carry the common blocks and a few known 34C blocks (no facts about their bodies exist). All content is
invented: MedCom's test CPR numbers,
GLNs with correct GS1 check digits, a fictional hospital. Bare Emessages are ISO-8859-1 without an XML declaration,
as real 34C files arrive; the VANS envelopes and SBDHs are UTF-8 with a declaration and carry the Emessage bytes
(or the VANS envelope bytes) base64-encoded.
"""

from __future__ import annotations

import argparse
import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from medcom.identifiers import make_gln

M100 = "urn:oio:medcom:municipality:1.0.0"
M102 = "urn:oio:medcom:municipality:1.0.2"
M103 = "urn:oio:medcom:municipality:1.0.3"
VANS = "urn:oio:medcom:vans-envelope:1.0.4"
SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
PEPPOL = "http://peppol.eu/xsd/ticc/envelope/1.0"  # BinaryContent sits outside the SBDH namespace (##other)
NSMAP = {None: M103, "mm100": M100, "mm102": M102}

HOSPITAL_GLN = make_gln("579000018204")
MUNICIPALITY_GLN = make_gln("579000012155")


@dataclass(frozen=True)
class Person:
    cpr: str
    surname: str
    given: str
    street: str
    suburb: str
    district: str
    postcode: str
    phone: str
    episode: str
    relative: tuple[str, str, str]  # surname, given name, relation code


PATIENT_A = Person("2509479989", "Østergård", "Åse Marie", "Æblehaven 3, 1. th.", "Tvis", "Holstebro", "7500",
                   "97421234", "4f0a9c2e7d1b4e6a9c3f5b8d2e1a7c60", ("Østergård", "Søren", "aegtefaelle"))
PATIENT_B = Person("2512489996", "Bøgelund", "Nancy Ann", "Søndergade 14", "Mejdal", "Holstebro", "7500",
                   "97425566", "b7e31d08c45f4a2e8d9c0f6a1b2c3d4e", ("Bøgelund Jørgensen", "Mette", "datter"))


def sub(parent: etree._Element, ns: str, tag: str, text: str | None = None) -> etree._Element:
    """Append {ns}tag to parent, with text if given."""
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        element.text = text
    return element


def date_time(parent: etree._Element, ns: str, tag: str, date: str, time: str, child_ns: str = M100) -> None:
    block = sub(parent, ns, tag)
    sub(block, child_ns, "Date", date)
    sub(block, child_ns, "Time", time)


def formatted(parent: etree._Element, ns: str, tag: str, lines: list[str]) -> None:
    """Text lines separated by mm100:Break, as the real ProblemArea shows."""
    element = sub(parent, ns, tag)
    element.text = lines[0]
    for line in lines[1:]:
        sub(element, M100, "Break").tail = line


def envelope(root: etree._Element, date: str, time: str, identifier: str) -> None:
    env = sub(root, M100, "Envelope")
    date_time(env, M100, "Sent", date, time)
    sub(env, M100, "Identifier", identifier)
    sub(env, M100, "AcknowledgementCode", "pluspositivkvitt")


def letter(body: etree._Element, identifier: str, family: str, version: str, date: str, time: str,
           episode: str) -> None:
    block = sub(body, M103, "Letter")
    sub(block, M103, "Identifier", identifier)
    sub(block, M103, "VersionCode", version)
    sub(block, M103, "StatisticalCode", family)
    date_time(block, M103, "Authorisation", date, time)
    sub(block, M103, "TypeCode", family)
    sub(block, M103, "EpisodeOfCareIdentifier", episode)


def hospital_sender(body: etree._Element) -> None:
    sender = sub(body, M100, "Sender")
    for tag, text in (("EANIdentifier", HOSPITAL_GLN), ("Identifier", "1301011000016003"),
                      ("IdentifierCode", "sorkode"), ("OrganisationName", "Regionshospitalet Fjordby"),
                      ("DepartmentName", "Medicinsk Afdeling"), ("UnitName", "Afsnit M3 Ældremedicin"),
                      ("StreetName", "Sygehusvej 12"), ("DistrictName", "Fjordby"), ("PostCodeIdentifier", "7400"),
                      ("TelephoneSubscriberIdentifier", "78431200")):
        sub(sender, M100, tag, text)
    signed = sub(sender, M100, "SignedBy")
    for tag, text in (("Identifier", "1301011000016003"), ("IdentifierCode", "sorkode"),
                      ("PersonGivenName", "Birthe"), ("PersonSurnameName", "Sørensen"),
                      ("PersonTitle", "Sygeplejerske")):
        sub(signed, M100, tag, text)
    sub(sender, M100, "MedicalSpecialityCode", "geriatri")
    contact = sub(sender, M100, "ContactInformation")
    sub(contact, M100, "ContactName", "Afsnit M3, koordinerende sygeplejerske")
    sub(contact, M100, "TelephoneSubscriberIdentifier", "78431234")


def municipality_receiver(body: etree._Element, unit: bool = True) -> None:
    receiver = sub(body, M100, "Receiver")
    fields = [("EANIdentifier", MUNICIPALITY_GLN), ("Identifier", "661"), ("IdentifierCode", "kommunenummer"),
              ("OrganisationName", "Holstebro Kommune"), ("DepartmentName", "Visitationen"),
              ("UnitName", "Sygehusteamet"), ("StreetName", "Kirkestræde 11"), ("DistrictName", "Holstebro"),
              ("PostCodeIdentifier", "7500")]
    for tag, text in fields:
        if unit or tag != "UnitName":
            sub(receiver, M100, tag, text)


def practitioner(body: etree._Element) -> None:
    block = sub(body, M100, "Practitioner")
    sub(block, M100, "Identifier", "012345")
    sub(block, M100, "IdentifierCode", "ydernummer")
    sub(block, M100, "PersonName", "Lægerne på Torvet, Jens Ærbø")
    sub(block, M100, "TelephoneSubscriberIdentifier", "97401122")


def patient(body: etree._Element, person: Person, suburb: bool = False) -> None:
    block = sub(body, M100, "Patient")
    sub(block, M100, "CivilRegistrationNumber", person.cpr)
    sub(block, M100, "PersonSurnameName", person.surname)
    sub(block, M100, "PersonGivenName", person.given)
    sub(block, M100, "StreetName", person.street)
    if suburb:
        sub(block, M100, "SuburbName", person.suburb)
    sub(block, M100, "DistrictName", person.district)
    sub(block, M100, "PostCodeIdentifier", person.postcode)
    sub(block, M100, "Occupation", "Pensionist")
    sub(block, M100, "TelephoneSubscriberIdentifier", person.phone)


def relatives(body: etree._Element, person: Person, comment: bool = True) -> None:
    surname, given, relation = person.relative
    block = sub(body, M103, "Relatives")
    relative = sub(block, M103, "Relative")
    sub(relative, M103, "RelationCode", relation)
    sub(relative, M100, "PersonSurnameName", surname)
    sub(relative, M100, "PersonGivenName", given)
    phone = sub(relative, M100, "CodedTelephoneSubscriberIdentifier")
    sub(phone, M100, "TelephoneCode", "mobil")
    sub(phone, M100, "TelephoneSubscriberIdentifier", "20304050")
    sub(relative, M103, "InformedRelative", "1")
    if comment:
        sub(block, M103, "Comment", f"{given} er informeret om indlæggelsen og ønsker at deltage i udskrivningen.")


PROBLEM_AREAS = [
    ("SPO01", "Funktionsniveau", "Har brug for hjælp til personlig pleje efter faldet.", "Selvhjulpen med rollator."),
    ("SPO02", "Bevægeapparat", "Usikker gang, går med rollator og støtte af én.", "Sikker forflytning."),
    ("SPO03", "Ernæring", "Nedsat appetit, vægt 54 kg, ernæringsscreening udført.", "Vægtstabil, 3 hovedmåltider."),
    ("SPO04", "Hud og slimhinder", "Hudafskrabning på venstre underarm, plejes dagligt.", "Sår heler."),
    ("SPO05", "Kommunikation", "Let nedsat hørelse, bruger høreapparat på højre øre.", "Forstår information."),
    ("SPO06", "Psykosociale forhold", "Bor med ægtefælle, bekymret for at komme hjem.", "Tryg ved udskrivelse."),
    ("SPO07", "Respiration og cirkulation", "Lungebetændelse, ilt 2 l/min de første døgn.", "Uden ilttilskud."),
    ("SPO09", "Smerter og sanseindtryk", "Smerter i højre hofte ved bevægelse, VAS 4.", "Smerter under VAS 3."),
    ("SPO10", "Søvn og hvile", "Sover uroligt om natten, vågner ved toiletbesøg.", "Sover hele natten."),
    ("SPO11", "Viden og udvikling", "Kender sin medicin, har brug for doseret medicin.", "Forstår medicinplan."),
    ("SPO12", "Udskillelse af affaldsstoffer", "Natlig inkontinens, bruger ble om natten.", "Kontinent om dagen."),
]

ABILITY = [("d510", "Vaske sig"), ("d520", "Kropspleje"), ("d540", "Af- og påklædning"), ("d550", "Spise"),
           ("d560", "Drikke"), ("d450", "Gå"), ("d420", "Forflytte sig")]
SCORES = ["lette_begraensninger", "moderate_begraensninger", "ingen_begraensninger", "ingen_begraensninger",
          "ingen_begraensninger", "moderate_begraensninger", "lette_begraensninger"]


def nursing_problem_areas(body: etree._Element, count: int, long_form: bool) -> None:
    """count areas; 10 breaks per area in the care plan (long_form), 7 in the discharge report."""
    block = sub(body, M103, "NursingProblemAreas")
    for code, name, assessment, goal in PROBLEM_AREAS[:count]:
        area = sub(block, M103, "NursingProblemArea")
        term = sub(area, M103, "Terminology")
        sub(term, M103, "Code", code)
        sub(term, M103, "CodeSystem", "FSIII")
        sub(term, M103, "CodeDescription", name)
        if long_form:
            lines = [f"Problemområde: {name}", "Aktuel vurdering:", assessment, "", "Mål:", goal, "",
                     "Indsats under indlæggelse:", "Observeres og understøttes af plejepersonalet.", "",
                     "Opfølgning efter udskrivelse: hjemmeplejen vurderer behovet."]
        else:
            lines = [f"Problemområde: {name}", "Vurdering ved udskrivelse:", goal, "",
                     "Indsats under indlæggelse:", assessment, "", "Anbefalet opfølgning: ved hjemmeplejen."]
        formatted(area, M103, "ProblemArea", lines)


def comment_block(parent: etree._Element, tag: str, text: str) -> None:
    sub(sub(parent, M103, tag), M103, "Comment", text)


def care_plan_body(root: etree._Element, person: Person, letter_id: str) -> None:
    """XDIS21 ProgressOfCarePlan, the README tree element by element."""
    body = sub(root, M103, "ProgressOfCarePlan")
    letter(body, letter_id, "XDIS21", "XD2134C", "2021-03-08", "10:40", person.episode)
    hospital_sender(body)
    municipality_receiver(body)
    practitioner(body)
    patient(body, person)
    relatives(body, person)
    date_time(body, M100, "Admission", "2021-03-05", "14:20")
    date_time(body, M102, "ExpectedEndOfTreatment", "2021-03-10", "12:00", child_ns=M102)
    date_time(body, M100, "AgreedDischarge", "2021-03-11", "10:00")
    sub(body, M102, "AgreedDischargeComment", "Udskrivelse aftalt med visitator Hanne Bøgh pr. telefon.")
    sub(body, M100, "CauseOfAdmission", "Faldet i hjemmet, feber og hoste. Mistanke om lungebetændelse.")
    sub(body, M100, "ExpectedCourseOfAdmission", "Antibiotika i fem døgn, derefter mobilisering og genoptræning.")
    sub(body, M100, "RiskOfContagion", "Ingen kendt smitterisiko.")
    diet = sub(body, M103, "DietFirst24Hours")
    sub(diet, M103, "LunchBox", "1")
    sub(diet, M103, "ShoppingAtDischarge", "0")
    further = sub(body, M103, "FurtherCoordination")
    comment_block(further, "HomeChanges", "Ingen ændringer i boligen.")
    comment_block(further, "ScheduleAuxilaries", "Rollator og badebænk skal være leveret før udskrivelsen.")
    comment_block(further, "RehabilitationNeeds", "Genoptræningsplan til almen genoptræning følger.")
    comment_block(further, "HomeCareNeeds", "Hjælp til bad og påklædning morgen og aften.")
    comment_block(further, "MedicineAdministrationHelp", "Doseret medicin fra apoteket, hjemmesygeplejen dispenserer.")
    comment_block(further, "MedicineConsumptionHelp", "Hjælp til at tage medicinen morgen og aften.")
    conference = sub(further, M103, "DischargeConference")
    sub(conference, M103, "DischargeDateCode", "dato_aftalt")
    sub(conference, M103, "Date", "2021-03-09")
    sub(conference, M103, "Time", "13:30")
    sub(conference, M103, "VideoConference", "1")
    sub(conference, M103, "Comment", "Videokonference med ægtefælle, hjemmepleje og terapeut.")
    comment_block(further, "OtherMunicipalWorkNeeded", "Nødkald skal genetableres.")
    expected = sub(body, M103, "ExpectedAbilityToFunctionAtDischarge")
    sub(expected, M103, "LastModifiedDate", "2021-03-08")
    elements = sub(expected, M103, "AbilityToFunctionElements")
    for (code, description), score in zip(ABILITY, SCORES, strict=True):
        element = sub(elements, M103, "AbilityToFunctionElement")
        term = sub(element, M103, "Terminology")
        sub(term, M103, "Code", code)
        sub(term, M103, "CodeSystem", "ICF")
        sub(term, M103, "CodeDescription", description)
        sub(element, M103, "Score", score)
        sub(element, M103, "Comment", f"{description}: forventet niveau ved udskrivelsen.")
    nursing_problem_areas(body, 11, long_form=True)


def discharge_report_body(root: etree._Element, person: Person, letter_id: str) -> None:
    """XDIS18 ReportOfDischarge, the README tree element by element."""
    body = sub(root, M103, "ReportOfDischarge")
    letter(body, letter_id, "XDIS18", "XD1834C", "2021-03-11", "10:25", person.episode)
    hospital_sender(body)
    municipality_receiver(body, unit=False)
    practitioner(body)
    patient(body, person, suburb=True)
    relatives(body, person, comment=False)
    date_time(body, M100, "Admission", "2021-03-05", "14:20")
    date_time(body, M100, "EndOfTreatment", "2021-03-10", "12:00")
    date_time(body, M100, "Discharge", "2021-03-11", "10:05")
    sub(body, M100, "CauseOfAdmission", "Faldet i hjemmet, feber og hoste. Lungebetændelse bekræftet.")
    nursing_problem_areas(body, 9, long_form=False)
    diagnoses = sub(body, M103, "Diagnoses")
    diagnosis = sub(diagnoses, M103, "Diagnosis")
    sub(diagnosis, M103, "Code", "DJ189")
    sub(diagnosis, M103, "TypeCode", "SKSdiagnosekode")
    sub(diagnosis, M103, "Text", "Pneumoni UNS")
    ability = sub(body, M103, "AbilityToFunctionAtDischarge")
    sub(ability, M103, "LastModifiedDate", "2021-03-11")
    sub(ability, M103, "AbilityToFunctionRelevance", "relevant")


def admission_report_body(root: etree._Element, person: Person, letter_id: str) -> None:
    """XDIS16 ReportOfAdmission, municipality to hospital: common blocks, then known 34C blocks only."""
    body = sub(root, M103, "ReportOfAdmission")
    letter(body, letter_id, "XDIS16", "XD1634C", "2021-03-05", "16:02", person.episode)
    sender = sub(body, M100, "Sender")
    for tag, text in (("EANIdentifier", MUNICIPALITY_GLN), ("Identifier", "661"), ("IdentifierCode", "kommunenummer"),
                      ("OrganisationName", "Holstebro Kommune"), ("DepartmentName", "Hjemmeplejen Nord"),
                      ("StreetName", "Kirkestræde 11"), ("DistrictName", "Holstebro"), ("PostCodeIdentifier", "7500"),
                      ("TelephoneSubscriberIdentifier", "96113000")):
        sub(sender, M100, tag, text)
    receiver = sub(body, M100, "Receiver")
    for tag, text in (("EANIdentifier", HOSPITAL_GLN), ("Identifier", "1301011000016003"),
                      ("IdentifierCode", "sorkode"), ("OrganisationName", "Regionshospitalet Fjordby"),
                      ("DepartmentName", "Medicinsk Afdeling"), ("UnitName", "Afsnit M3 Ældremedicin")):
        sub(receiver, M100, tag, text)
    patient(body, person)
    relatives(body, person)
    sub(body, M100, "CauseOfAdmission", "Fundet på gulvet af hjemmeplejen kl. 13.45, varm og forpustet.")


def completion_notice_body(root: etree._Element, person: Person, letter_id: str) -> None:
    """XDIS19 (body element WarningOfDischarge, chosen): common blocks, then dates in known 34C elements."""
    body = sub(root, M103, "WarningOfDischarge")
    letter(body, letter_id, "XDIS19", "XD1934C", "2021-03-10", "12:10", person.episode)
    hospital_sender(body)
    municipality_receiver(body)
    practitioner(body)
    patient(body, person)
    date_time(body, M100, "Admission", "2021-03-05", "14:20")
    date_time(body, M100, "EndOfTreatment", "2021-03-10", "12:00")
    date_time(body, M100, "PlannedDischarge", "2021-03-11", "10:00")


def emessage(date: str, time: str, envelope_id: str, *letters) -> etree._Element:
    root = etree.Element(f"{{{M103}}}Emessage", nsmap=NSMAP)
    envelope(root, date, time, envelope_id)
    for build, person, letter_id in letters:
        build(root, person, letter_id)
    return root


def latin1(root: etree._Element, pretty: bool) -> bytes:
    """ISO-8859-1 without an XML declaration, as real 34C files arrive."""
    return etree.tostring(root, encoding="ISO-8859-1", xml_declaration=False, pretty_print=pretty)


def utf8(root: etree._Element) -> bytes:
    """UTF-8 with an XML declaration (the wrappers)."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def stable_uuid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://github.com/medcom-oss/tests/34C/{name}"))


def vans_envelope(payload: bytes, family: str, version: str, sender: str, receiver: str, sent: str,
                  name: str) -> bytes:
    """VANS envelope 1.0.4 around the Emessage bytes (Message/Data = base64)."""
    root = etree.Element(f"{{{VANS}}}VANSEnvelope", nsmap={None: VANS})
    sub(root, VANS, "SenderID", sender).set("EndPointType", "EAN")
    sub(root, VANS, "ReceiverID", receiver).set("EndPointType", "EAN")
    sub(root, VANS, "EnvelopeIdentifier", stable_uuid(f"{name}/envelope"))
    sub(root, VANS, "SentDateTime", sent)
    message = sub(root, VANS, "Message")
    meta = sub(message, VANS, "MetaInformation")
    sub(meta, VANS, "Identifier", stable_uuid(f"{name}/message"))
    document = sub(meta, VANS, "Document")
    sub(document, VANS, "Format", "XML")
    sub(document, VANS, "Name", family)
    sub(document, VANS, "Version", version)
    sub(document, VANS, "SizeInBytes", str(len(payload)))
    sub(message, VANS, "Data", base64.b64encode(payload).decode("ascii"))
    return utf8(root)


def sbdh(payload: bytes, sender: str, receiver: str, standard: str, type_version: str, type_: str, created: str,
         name: str, encoding: str) -> bytes:
    """SBDH around payload bytes (BinaryContent = base64, wrapped at 76 characters as MIME does)."""
    root = etree.Element(f"{{{SBDH}}}StandardBusinessDocument", nsmap={None: SBDH})
    header = sub(root, SBDH, "StandardBusinessDocumentHeader")
    sub(header, SBDH, "HeaderVersion", "1.0")
    for tag, gln in (("Sender", sender), ("Receiver", receiver)):
        sub(sub(header, SBDH, tag), SBDH, "Identifier", f"0088:{gln}").set("Authority", "iso6523-actorid-upis")
    ident = sub(header, SBDH, "DocumentIdentification")
    sub(ident, SBDH, "Standard", standard)
    sub(ident, SBDH, "TypeVersion", type_version)
    sub(ident, SBDH, "InstanceIdentifier", stable_uuid(f"{name}/sbdh"))
    sub(ident, SBDH, "Type", type_)
    sub(ident, SBDH, "CreationDateAndTime", created)
    content = etree.SubElement(root, f"{{{PEPPOL}}}BinaryContent", nsmap={None: PEPPOL})
    content.set("mimeType", "application/xml")
    content.set("encoding", encoding)
    content.text = "\n" + base64.encodebytes(payload).decode("ascii")
    return utf8(root)


def samples() -> dict[str, bytes]:
    """Every sample file name and its bytes."""
    files: dict[str, bytes] = {}
    care_plan = latin1(emessage("2021-03-08", "10:42", "E2103081042A", (care_plan_body, PATIENT_A, "L2103081040A")),
                       pretty=True)
    discharge = latin1(emessage("2021-03-11", "10:30:17", "E2103111030B",
                                (discharge_report_body, PATIENT_A, "L2103111025B")), pretty=False)
    files["XDIS21_XD2134C.xml"] = care_plan
    files["XDIS18_XD1834C.xml"] = discharge
    files["XDIS16_XD1634C.xml"] = latin1(emessage("2021-03-05", "16:05", "K2103051605",
                                                  (admission_report_body, PATIENT_A, "K2103051602")), pretty=True)
    files["XDIS19_XD1934C.xml"] = latin1(emessage("2021-03-10", "12:15", "E2103101215C",
                                                  (completion_notice_body, PATIENT_A, "L2103101210C")), pretty=True)
    files["Emessage_two_letters.xml"] = latin1(emessage("2021-03-10", "12:20", "E2103101220D",
                                                        (care_plan_body, PATIENT_B, "L2103101218D"),
                                                        (completion_notice_body, PATIENT_A, "L2103101219D")),
                                               pretty=True)
    for stem, payload, family, version, sent in (
        ("XDIS21_XD2134C", care_plan, "XDIS21", "XD2134C", "2021-03-08T10:42:05"),
        ("XDIS18_XD1834C", discharge, "XDIS18", "XD1834C", "2021-03-11T10:30:17"),
    ):
        vans = vans_envelope(payload, family, version, HOSPITAL_GLN, MUNICIPALITY_GLN, sent, stem)
        files[f"{stem}.vans.xml"] = vans
        files[f"{stem}.sbdh.xml"] = sbdh(payload, HOSPITAL_GLN, MUNICIPALITY_GLN, M103, version, "Emessage",
                                         f"{sent}+01:00", f"{stem}/bare", "ISO-8859-1")
        files[f"{stem}.sbdh-vans.xml"] = sbdh(vans, HOSPITAL_GLN, MUNICIPALITY_GLN, VANS, "1.0.4", "VANSEnvelope",
                                              f"{sent}+01:00", f"{stem}/vans", "UTF-8")
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="folder to write into")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for name, data in samples().items():
        (out / name).write_bytes(data)
        print(out / name)


if __name__ == "__main__":
    main()
