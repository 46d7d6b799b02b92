"""Property: for every family the project writes, parameters -> XML -> valid against its schema -> read back
-> the same values (build -> parse -> equal)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import cprs, headers, instants, minutes, names

from medcom.formats.oioxml import write
from medcom.formats.read import read_document

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(data: bytes):
    (message,) = read_document(data, "generated.xml")
    # random data may send before the event reported (M-TIME): a business rule, not a codec fault
    assert {f.rule for f in message.errors} <= {"M-TIME"}, message.findings
    return message.content


def _same_header(letter, h: write.Header) -> None:
    assert (letter.envelope_id, letter.letter_id, letter.sent, letter.receipt_requested) == \
        (h.envelope_id, h.letter_id, h.sent, h.receipt_requested)
    assert letter.episode_id == h.episode_id and letter.cpr == h.cpr
    assert letter.sender.ean == h.sender.ean and letter.receiver.identifier == h.receiver.identifier
    assert letter.sender.kind == h.sender.kind


@SETTINGS
@given(h=headers(seconds=False), admitted=minutes)
def test_admission_advice(h, admitted) -> None:
    letter = _read(write.admission_advice(h, admitted, h.sender.ean))
    _same_header(letter, h)
    assert letter.times == {"Admission": admitted} and letter.answer_to == h.sender.ean


@SETTINGS
@given(h=headers(seconds=False), discharged=minutes,
       status=st.sampled_from(["udskrevet_til_hjemmet", "udskrevet_til_andet", "doed", "uoplyst"]))
def test_discharge_advice(h, discharged, status) -> None:
    letter = _read(write.discharge_advice(h, discharged, status))
    _same_header(letter, h)
    assert letter.times == {"Discharge": discharged} and letter.patient_status == status


@SETTINGS
@given(h=headers(seconds=True), admitted=instants, ready=st.none() | instants, agreed=st.none() | instants,
       conference=st.none() | instants, blocks=st.sets(st.sampled_from(["HomeChanges", "ScheduleAuxilaries"])))
def test_care_plan(h, admitted, ready, agreed, conference, blocks) -> None:
    letter = _read(write.care_plan(h, admitted, ready_at=ready, agreed_discharge_at=agreed, conference_at=conference,
                                   coordination=sorted(blocks)))
    _same_header(letter, h)
    expected = {"Admission": admitted, "ExpectedEndOfTreatment": ready, "AgreedDischarge": agreed}
    assert letter.times == {k: v for k, v in expected.items() if v is not None}
    assert letter.conference == conference
    assert set(letter.coordination) == set(blocks) | ({"DischargeConference"} if conference else set())


@SETTINGS
@given(h=headers(seconds=False), admitted=minutes, ready=minutes, planned=minutes)
def test_completion_notice(h, admitted, ready, planned) -> None:
    letter = _read(write.completion_notice(h, admitted, ready, planned))
    _same_header(letter, h)
    assert letter.times == {"Admission": admitted, "EndOfTreatment": ready, "PlannedDischarge": planned}


@SETTINGS
@given(h=headers(seconds=True), admitted=instants, discharged=st.none() | instants, ready=st.none() | instants)
def test_discharge_report(h, admitted, discharged, ready) -> None:
    letter = _read(write.discharge_report(h, admitted, discharged, ready))
    _same_header(letter, h)
    expected = {"Admission": admitted, "Discharge": discharged, "EndOfTreatment": ready}
    assert letter.times == {k: v for k, v in expected.items() if v is not None}


@SETTINGS
@given(h=headers(seconds=False, from_municipality=True), subject=names, text=names)
def test_correspondence_and_admission_report(h, subject, text) -> None:
    letter = _read(write.correspondence(h, subject, text))
    _same_header(letter, h)
    assert letter.subject == subject.strip() and letter.sender.is_municipality
    _same_header(_read(write.admission_report(h)), h)


@SETTINGS
@given(positive=st.booleans(), sent=minutes, letters=st.lists(st.tuples(st.from_regex(r"\A[A-Z0-9]{1,14}\Z"),
                                                                         st.just("XD2134C")), min_size=1, max_size=3),
       cpr=cprs)
def test_receipts(positive, sent, letters, cpr) -> None:
    refused = [(ident, version, None if positive else "syntaksfejl", None if positive else f"fejl i {cpr}")
               for ident, version in letters]
    letter = _read(write.receipt(positive=positive, envelope_id="K1", letter_id="K1", sent=sent,
                                 sender_ean="5790000161508", receiver_ean="5790000182732",
                                 original_envelope_id="E1", original_sender_ean="5790000182732",
                                 original_receiver_ean="5790000161508", letters=refused))
    assert letter.family.code == ("XCTL03" if positive else "XCTL02")
    assert letter.original.envelope_id == "E1" and letter.original.letter_ids == tuple(x[0] for x in letters)
    assert letter.original.refuse_code == (None if positive else "syntaksfejl")
    assert not letter.receipt_requested  # a receipt never asks for one
