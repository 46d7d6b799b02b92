"""One problem type (medcom.findings): findings and violations with a structured location, a machine code and what
judged them; and the decisions that read those fields, never a finding's text or the text of its path."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from helpers.fhir import ADMISSION, dump, entry_index, mutated, resource
from helpers.samples import one_of_each
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from medcom.engine.engine import Context, Engine, Rule, Violation
from medcom.events import Event
from medcom.findings import (
    EPISODE,
    MESSAGE,
    RECEIVER_MUNICIPALITY,
    Finding,
    Location,
    LocationKind,
    MoreFindings,
    Problem,
    Severity,
)
from medcom.formats.fhir import validate_bytes
from medcom.formats.fhir.rules import F_BINDING, F_PROFILE, F_STRUCTURE, FIXED_VALUE, MIN_CARDINALITY
from medcom.formats.fhir.validator import _merge
from medcom.formats.read import read_document
from medcom.formats.xmlsafe import parse_bytes
from medcom.identifiers import _SEPARATORS, find_cprs, mask_cprs
from medcom.policy import load_policy
from medcom.reports.masking import MaskedStream
from medcom.validate.receipts import refuse_code

# --- the type -------------------------------------------------------------------------------------------------------

_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True)


@st.composite
def _xml_steps(draw: st.DrawFn) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    for name in draw(st.lists(_NAME, min_size=1, max_size=6)):
        steps.append(name)
        if draw(st.booleans()):
            steps.append(draw(st.integers(1, 999)))
    return tuple(steps)


@st.composite
def _fhir_steps(draw: st.DrawFn) -> tuple[str | int, ...]:
    steps: list[str | int] = [draw(st.from_regex(r"[A-Z][A-Za-z]{0,12}", fullmatch=True))]
    for name in draw(st.lists(st.from_regex(r"[a-z][A-Za-z0-9]{0,12}", fullmatch=True), max_size=6)):
        steps.append(name)
        steps += draw(st.lists(st.integers(0, 999), max_size=2))
    return tuple(steps)


@given(_xml_steps())
def test_an_xml_location_prints_as_xpath_and_reads_back(steps: tuple[str | int, ...]) -> None:
    location = Location(LocationKind.XPATH, steps)
    text = location.render()
    assert text is not None and text.startswith("/") and Location.parse(text) == location


@given(_fhir_steps())
def test_a_fhir_location_prints_as_fhirpath_and_reads_back(steps: tuple[str | int, ...]) -> None:
    location = Location(LocationKind.FHIRPATH, steps)
    text = location.render()
    assert text is not None and Location.parse(text) == location


def test_a_fhir_location_is_the_element_a_primitives_twin_belongs_to() -> None:
    assert Location.fhir("Bundle", ("entry", 2, "resource", "_birthDate")) == \
        Location(LocationKind.FHIRPATH, ("Bundle", "entry", 2, "resource", "birthDate"))
    assert str(Location.fhir("Bundle", ("entry", 2, "resource", "_birthDate"))) == "Bundle.entry[2].resource.birthDate"


def test_the_findings_constructor_is_kept_positional_and_keyword_alike() -> None:
    """Producers build findings as before; the location is worked out from the path they give, or the path from
    the location."""
    path = "/Emessage/NotificationOfDischarge/Receiver[2]/Identifier"
    positional = Finding("M-MUNICIPALITY", Severity.ERROR, "t", "f.xml", 7, path)
    keyword = Finding(rule="M-MUNICIPALITY", severity=Severity.ERROR, text="t", file="f.xml", line=7, xpath=path)
    assert positional == keyword and positional.xpath == path
    assert positional.location == Location(LocationKind.XPATH,
                                           ("Emessage", "NotificationOfDischarge", "Receiver", 2, "Identifier"))
    assert positional.code is None and positional.judged_by is None
    located = Finding("F-PROFILE", Severity.ERROR, "t", "m.json", 3,
                      location=Location.fhir("Bundle", ("entry", 0, "resource", "class")))
    assert located.xpath == "Bundle.entry[0].resource.class"
    plain = Finding("M-XML", Severity.ERROR, "t", "f.xml")
    assert plain.location is MESSAGE and plain.xpath is None
    assert MoreFindings("M-SCHEMA", Severity.ERROR, "t", "f.xml", count=3).count == 3


def test_a_findings_dict_is_as_before_with_code_and_judge_only_where_known() -> None:
    plain = Finding("M-CPR", Severity.ERROR, "t", "f.xml", 2, "/Emessage/X/Patient/CivilRegistrationNumber")
    assert list(plain.as_dict()) == ["rule", "severity", "file", "line", "xpath", "text"]
    judged = Finding("M-SCHEMA", Severity.ERROR, "t", "f.xml", 2, "/Emessage/X", code="schema", judged_by="34C")
    assert judged.as_dict() | {} == {**plain.as_dict(), "rule": "M-SCHEMA", "xpath": "/Emessage/X", "code": "schema",
                                     "judged_by": "34C"}


def test_a_violation_is_a_problem_with_the_engines_fields_and_a_severity() -> None:
    violation = Violation("CP-1", "warning", None, None, ["m1"], "care plan late")
    assert isinstance(violation, Problem) and isinstance(Finding("R-1", Severity.INFO, "t", "f"), Problem)
    assert violation.severity is Severity.WARNING and violation.location is EPISODE
    assert violation.as_dict() == {"rule": "CP-1", "severity": "warning", "due": None, "actual": None,
                                   "message_ids": ["m1"], "text": "care plan late"}


T0 = datetime(2025, 9, 1, 8, tzinfo=UTC)


class _WaitForReport(Rule):
    id = "TEST"
    kinds = frozenset({"admission_advice_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        ctx.expect(self.id, "warning", event.at + timedelta(minutes=10), "no report (within ten minutes)",
                   kinds=("admission_report_sent",))


def _violations(events: list[tuple[str, str, int]]) -> dict[str, Violation]:
    engine = Engine(load_policy(), [_WaitForReport()], log_has_phone_calls=False, log_has_receipts=False)
    episodes = engine.run([Event(T0 + timedelta(minutes=m), name, kind, {}, n)
                           for n, (name, kind, m) in enumerate(events, start=1)])
    return {name: v for name, ep in episodes.items() for v in ep.violations}


def test_how_a_wait_ended_is_the_violations_code_and_its_statement_stays_the_rules() -> None:
    found = _violations([("late", "admission_advice_sent", 0), ("late", "admission_report_sent", 30),
                         ("none", "admission_advice_sent", 0)])
    assert (found["late"].code, found["none"].code) == ("late", "missing")
    assert found["late"].text == "no report (within ten minutes) (came after the deadline)"
    assert found["late"].statement == found["none"].statement == "no report (within ten minutes)"
    assert found["late"].severity is Severity.WARNING and found["late"].as_dict()["code"] == "late"


# --- receipts: the receiver's identifiers ---------------------------------------------------------------------------


def test_the_refuse_code_reads_the_findings_code_not_its_path() -> None:
    """A finding about the receiver's municipality refuses with problem_med_modtagerID wherever its path is
    printed; a path through an element named Receiver does not, unless the finding says it is the receiver's."""
    receiver = Finding("M-MUNICIPALITY", Severity.ERROR, "t", "f.xml", 3,
                       "/Emessage/NotificationOfDischarge/Receiver[1]/Identifier", code=RECEIVER_MUNICIPALITY)
    elsewhere = Finding("M-MUNICIPALITY", Severity.ERROR, "t", "f.xml", 3,
                        "/Emessage/NotificationOfDischarge/Patient/Receiver/Identifier", code="municipality")
    assert refuse_code([receiver]) == "problem_med_modtagerID"
    assert refuse_code([elsewhere]) == "ikke_specificeret"


def _discharge_with_receiver_copy(wrong_in_copy: bool) -> bytes:
    """XDIS17 with a copy of its Receiver inside the Patient, and the municipality code 411 (no such code) in the
    copy or in the letter's own Receiver."""
    root = parse_bytes(one_of_each()["XDIS17"]).getroot()
    receiver = root.xpath("//*[local-name()='Receiver']")[0]
    copied = copy.deepcopy(receiver)
    root.xpath("//*[local-name()='Patient']")[0].append(copied)
    (copied if wrong_in_copy else receiver).xpath("*[local-name()='Identifier']")[0].text = "411"
    return etree.tostring(root)


def test_a_wrong_municipality_under_another_receiver_element_is_no_receiver_refusal() -> None:
    (elsewhere,) = read_document(_discharge_with_receiver_copy(wrong_in_copy=True), "copy.xml")
    wrong = [f for f in elsewhere.findings if f.rule == "M-MUNICIPALITY"]
    assert wrong and "/Receiver/" in wrong[0].xpath and wrong[0].code != RECEIVER_MUNICIPALITY
    assert refuse_code(elsewhere.findings) == "syntaksfejl"  # the copy is misplaced: a schema error
    (own,) = read_document(_discharge_with_receiver_copy(wrong_in_copy=False), "own.xml")
    assert [f.code for f in own.findings if f.rule == "M-MUNICIPALITY"] == [RECEIVER_MUNICIPALITY]
    assert refuse_code(own.findings) == "problem_med_modtagerID"


def test_an_oioxml_schema_finding_names_the_xsd_that_judged_it() -> None:
    root = parse_bytes(one_of_each()["XDIS17"]).getroot()
    identifier = root.xpath("//*[local-name()='Letter']/*[local-name()='Identifier']")[0]
    identifier.getparent().remove(identifier)
    (message,) = read_document(etree.tostring(root), "m.xml")
    (schema,) = [f for f in message.findings if f.rule == "M-SCHEMA"]
    assert schema.code == "schema" and schema.judged_by == message.schema and schema.judged_by in schema.text


# --- FHIR: the base model and the profiles saying the same -----------------------------------------------------------


def _at(path: str) -> Location:
    return Location.parse(path)


def test_the_duplicate_cut_reads_code_and_location_not_the_wording() -> None:
    where = "Bundle.entry[1].resource.identifier[0].use"
    structural = [Finding(F_STRUCTURE, Severity.ERROR, "the base model says no", "m.json", 5, where)]
    minimum = Finding(F_PROFILE, Severity.ERROR, "Identifier.use: at least 1 wanted", "m.json", 5, where,
                      code=MIN_CARDINALITY)
    quoting = Finding(F_PROFILE, Severity.ERROR, "value 'minimum' is not the fixed value 'official'", "m.json", 5,
                      where, code=FIXED_VALUE)
    elsewhere = Finding(F_PROFILE, Severity.ERROR, "Identifier.system: minimum required = 1", "m.json", 5,
                        "Bundle.entry[1].resource.identifier[0].system", code=MIN_CARDINALITY)
    assert _merge(structural, [minimum, quoting, elsewhere]) == [*structural, quoting, elsewhere]
    binding = Finding(F_BINDING, Severity.ERROR, "code not in the value set", "m.json", 5, where)
    assert _merge([*structural, binding], [binding]) == [*structural, binding]


def test_a_profiles_finding_is_kept_whatever_word_the_value_it_quotes() -> None:
    """A fixed-value finding where the base model also spoke is kept, whether the value reads 'minimum' or not."""
    def verdict(value: str) -> list[tuple[str, str | None, str | None]]:
        bundle = mutated(ADMISSION, lambda b: resource(b, "Patient")["identifier"][0].update(use=value))
        return [(f.rule, f.code, f.xpath) for f in validate_bytes(dump(bundle), "m.json").findings]

    assert verdict(" minimum") == verdict(" maximum")
    assert (F_PROFILE, FIXED_VALUE, f"Bundle.entry[{entry_index(mutated(ADMISSION, lambda b: None), 'Patient')}]"
            ".resource.identifier[0].use") in verdict(" minimum")


def test_a_profiles_minimum_cardinality_finding_has_its_code_and_the_profile_that_judged_it() -> None:
    bundle = mutated(ADMISSION, lambda b: resource(b, "Encounter").pop("period"))
    found = [f for f in validate_bytes(dump(bundle), "m.json").findings if f.code == MIN_CARDINALITY]
    assert [f.xpath for f in found] == [f"Bundle.entry[{entry_index(bundle, 'Encounter')}].resource.period"]
    url, _, version = (found[0].judged_by or "").partition("|")
    assert url.endswith("/medcom-hospitalNotification-encounter") and version.count(".") == 2


def test_a_required_element_missing_for_both_base_and_profile_is_said_once() -> None:
    bundle = mutated(ADMISSION, lambda b: b.pop("type"))
    at_type = [f for f in validate_bytes(dump(bundle), "m.json").findings if f.xpath == "Bundle.type"]
    assert [f.rule for f in at_type] == [F_STRUCTURE]


# --- one CPR detector -----------------------------------------------------------------------------------------------


@given(st.sampled_from(["9989", "1AB3"]), st.sampled_from(["", *_SEPARATORS]), st.integers(1, 11),
       st.text(alphabet="ab :", max_size=5))
def test_a_stream_masks_a_cpr_number_written_in_pieces_as_the_detector_would(tail: str, separator: str, cut: int,
                                                                              before: str) -> None:
    """The stream holds back what could be the start of a CPR number, with the detector's own separators."""
    number = f"250947{separator}{tail}"
    text = before + number
    out = io.StringIO()
    stream = MaskedStream(out)
    at = len(before) + min(cut, len(number) - 1)
    stream.write(text[:at])
    stream.flush()
    stream.write(text[at:] + "\n")
    stream.close_masking()
    assert find_cprs(text) == [number] and out.getvalue() == mask_cprs(text + "\n")


# --- where a message is: read from fields, not from its source's wording ---------------------------------------------


def test_a_wrapper_naming_the_wrong_letter_is_found_whatever_the_file_is_called() -> None:
    """Whether a wrapper's payload is the document it declares is told by the message's document, not by cutting
    its source at ' letter ' (a file named 'my letter 5.xml' lost the finding)."""
    from medcom.formats.oioxml.wrappers import vans_envelope

    wrapped = vans_envelope(one_of_each()["XDIS20"], envelope_id="V1", sent="2025-03-24T08:41:00+01:00",
                            sender_ean="1", receiver_ean="2", name="XDIS17", version="XD2030C")
    for name in ("v.xml", "my letter 5.xml"):
        (message,) = read_document(wrapped, name)
        assert [f.rule for f in message.findings] == ["M-XML"], name


def test_a_timeline_finding_is_located_at_its_line() -> None:
    from medcom.events.timeline import parse_line

    read = parse_line('{"time": 5}', "t.jsonl", 4, 1)
    assert [(f.rule, f.line, f.location.kind, f.xpath) for f in read.findings] == [
        ("M-SCHEMA", 4, LocationKind.LINE, None)]


def test_an_envelope_reused_by_two_files_is_found_whatever_the_files_are_called(tmp_path: Path) -> None:
    """M-ENVELOPE tells the letters of one document from two documents by the document each message came in,
    not by cutting the source at ' letter ' (two files named 'x letter 1.xml' and 'x letter 2.xml' were taken
    for one Emessage, and the reused envelope was accepted)."""
    import json

    from helpers.cli import invoke

    advice = one_of_each()["XDIS20"]
    other = advice.replace(b">ADV1<", b">ADV2<", 1)
    assert other != advice
    for folder, names in (("plain", ("x1.xml", "x2.xml")), ("worded", ("x letter 1.xml", "x letter 2.xml"))):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / names[0]).write_bytes(advice)
        (tmp_path / folder / names[1]).write_bytes(other)
        report = json.loads(invoke("replay", tmp_path / folder, "--format", "json").stdout)
        rules = [v["rule"] for e in report["episodes"] for v in e["violations"]]
        assert "M-ENVELOPE" in rules, folder
