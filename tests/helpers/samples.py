"""One valid, coherent message of every family the project writes, with the real writers."""

from datetime import datetime

from medcom.calendar import TZ
from medcom.formats.oioxml import write
from medcom.identifiers import make_gln

HOSPITAL = write.Organisation(make_gln("579000018273"), "8001099", "sygehusafdelingsnummer",
                              "Aalborg Universitetshospital", "Ortopædkirurgisk afdeling", "O2", "97660000")
MUNICIPALITY = write.Organisation(make_gln("579000016150"), "851", "kommunenummer", "Aalborg Kommune", "Visitationen")
CPR = "2509479989"
EPISODE = "4f0a9c2e7d1b4e6a9c3f5b8d2e1a7c60"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def header(letter: str, sent: str, *, from_municipality: bool = False) -> write.Header:
    sender, receiver = (MUNICIPALITY, HOSPITAL) if from_municipality else (HOSPITAL, MUNICIPALITY)
    return write.Header(f"ENV{letter}", letter, at(sent), sender, receiver, CPR, EPISODE)


def one_of_each() -> dict[str, bytes]:
    """XDIS20, XDIS16, XDIS21, XDIS19, XDIS17, XDIS18, XDIS91, XCTL03, XCTL02 of one episode."""
    admitted, ready, out = at("2025-03-24T08:40"), at("2025-03-27T10:00"), at("2025-03-27T13:00")
    return {
        "XDIS20": write.admission_advice(header("ADV1", "2025-03-24T08:41"), admitted, HOSPITAL.ean),
        "XDIS16": write.admission_report(header("REP1", "2025-03-24T09:10", from_municipality=True)),
        "XDIS21": write.care_plan(header("CP1", "2025-03-25T11:00:07"), admitted, ready_at=ready,
                                  agreed_discharge_at=out, conference_at=at("2025-03-26T10:00"),
                                  coordination=("HomeChanges",)),
        "XDIS19": write.completion_notice(header("FM1", "2025-03-27T10:05"), admitted, ready, out),
        "XDIS17": write.discharge_advice(header("DA1", "2025-03-27T13:02"), out, "udskrevet_til_hjemmet"),
        "XDIS18": write.discharge_report(header("DR1", "2025-03-27T13:20:31"), admitted, out, ready),
        "XDIS91": write.correspondence(header("ACK1", "2025-03-25T12:00", from_municipality=True),
                                       "Kvittering for plejeforløbsplan", "Modtaget.\nVi accepterer."),
        "XCTL03": write.receipt(positive=True, envelope_id="R1", letter_id="R1", sent=at("2025-03-25T11:01"),
                                sender_ean=MUNICIPALITY.ean, receiver_ean=HOSPITAL.ean, original_envelope_id="ENVCP1",
                                original_sender_ean=HOSPITAL.ean, original_receiver_ean=MUNICIPALITY.ean,
                                letters=[("CP1", "XD2134C", None, None)]),
        "XCTL02": write.receipt(positive=False, envelope_id="R2", letter_id="R2", sent=at("2025-03-25T11:01"),
                                sender_ean=MUNICIPALITY.ean, receiver_ean=HOSPITAL.ean, original_envelope_id="ENVCP1",
                                original_sender_ean=HOSPITAL.ean, original_receiver_ean=MUNICIPALITY.ean,
                                letters=[("CP1", "XD2134C", "syntaksfejl", "Schema error at line 3")]),
    }
