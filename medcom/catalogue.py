"""The rule catalogue: every rule id medcom enforces or reports, with its meaning, source, severity, the policy keys
it reads and the code that implements it.

Rule ids are a public interface (reports, suppression files and users' CI key on them): never reuse one for another
meaning. This module is the one list: `medcom rules` explains an id from it, docs/RULES.md is generated from it
(`medcom rules --format markdown`, checked by a test), and a test checks that every id the code can emit is here and
that every entry's implementation exists. It sits in the bottom layer and imports nothing of medcom, so every layer
may read it; implementations are named as "module:qualname" strings for the same reason.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

AGREEMENT = ("Region Nordjylland, \"Samarbejdsaftale om indlæggelse og udskrivning\" (draft v271123), part of the "
             "Sundhedsaftale 2024-2027 for Nordjylland: https://rn.dk/Til-fagfolk/Sundhed/Sundhedsaftalen")
SUNDHEDSLOVEN = "sundhedsloven § 238 (færdigbehandlingstakst), on https://www.retsinformation.dk"
MEDCOM_OIOXML = "MedCom's OIOXML standards (XDIS, XCTL) and their XSDs: https://www.medcom.dk"
MEDCOM_FHIR = "MedCom's FHIR implementation guides (messaging, HospitalNotification, CareCommunication, " \
    "Acknowledgement): https://medcomfhir.dk"
RELIABLE_MESSAGING = "MedCom's reliable messaging (receipts, resends, duplicates): https://medcomfhir.dk"

# Where a rule comes from: the agreement (or the law it applies), MedCom's messaging standards, or medcom itself.
ORIGINS = ("agreement", "MedCom", "medcom")


@dataclass(frozen=True)
class RuleInfo:
    """One rule id: what it checks and why, how bad, what it reads and where it lives."""

    id: str
    title: str
    severities: tuple[str, ...]  # what its findings can be; () for a rule that computes (a count, a window)
    origin: str  # one of ORIGINS
    source: str  # the paragraph of the agreement, the MedCom standard, or "added by medcom"
    checks: str  # what it checks, in full
    implementation: str  # "module:qualname" of the class or function that implements it
    policy: tuple[str, ...] = ()  # dotted keys of medcom/policy/default.toml it reads
    reading: str = ""  # how medcom reads what the source leaves open
    example: str = ""  # a violation, in words
    timeline: tuple[str, ...] = ()  # a timeline (JSON lines) that breaks the rule; replayed by `medcom rules` and tests
    commands: tuple[str, ...] = ("replay", "simulate")  # the commands whose reports can print it

    @property
    def severity(self) -> str:
        return " or ".join(self.severities) if self.severities else "none (computes)"


def _ag(paragraph: str) -> str:
    return f"the agreement {paragraph}"


_ADMIT = ('{"episode": "E1", "at": "2025-03-24T08:40", "event": "admitted", "cpr": "2509479989", '
          '"municipality": "851"}')


def _line(at: str, event: str, extra: str = "") -> str:
    return f'{{"episode": "E1", "at": "{at}", "event": "{event}"{", " + extra if extra else ""}}}'


RULES: tuple[RuleInfo, ...] = (
    # --- Time and calendar (apply everywhere) ---------------------------------------------------------------------
    RuleInfo("T-1", "Local time is Europe/Copenhagen; durations are elapsed time", (), "agreement",
             "medcom's reading of every time in the agreement",
             "A message time without an offset is local time (Europe/Copenhagen). Arithmetic on durations (72 hours, "
             "24 hours, 30 minutes) is done on elapsed time (UTC), never on wall-clock time: 72 hours after "
             "2025-03-29 10:00 (+01:00) is 2025-04-01 11:00 (+02:00).",
             "medcom.calendar:add_elapsed", commands=()),
    RuleInfo("T-2", "A local time that does not exist is an error; an ambiguous one is the first", (), "agreement",
             "medcom's reading of every time in the agreement",
             "A local time that does not exist (the spring gap, e.g. 2025-03-30 02:30) is an error in a message; an "
             "ambiguous one (the autumn fold, 2025-10-26 02:30) is read as the first occurrence, with a warning. "
             "Both are reported as M-TIME.",
             "medcom.calendar:classify_local", commands=()),
    RuleInfo("T-3", "A weekday (hverdag) is Monday-Friday that is not a Danish public holiday", (), "agreement",
             _ag("(\"hverdage\", every section)"),
             "Public holidays: Nytårsdag, Skærtorsdag, Langfredag, Påskedag, 2. påskedag, Kristi himmelfartsdag, "
             "Pinsedag, 2. pinsedag, Juledag, 2. juledag, and Store bededag up to and including 2023 (abolished from "
             "2024). 1 May, 5 June, 24 Dec and 31 Dec are weekdays by default; a policy can list extra closed days.",
             "medcom.calendar:BusinessCalendar", ("calendar.extra_closed_days",),
             reading="Holidays come from the `holidays` package (0.22 or later knows Store bededag's end).",
             commands=()),
    RuleInfo("T-4", "\"Before 14:00\" excludes 14:00:00; \"at the latest 14:00\" includes it", (), "agreement",
             _ag("(\"inden kl. 14\", \"senest kl. 14\")"),
             "\"Before 14:00\" (inden kl. 14) means strictly earlier than 14:00:00 local time; \"at the latest 14:00\" "
             "(senest kl. 14) means at or before 14:00:00. Every clock time is a policy value.",
             "medcom.calendar:BusinessCalendar.weekday_before_clock", commands=()),
    # --- Messages (MedCom) -------------------------------------------------------------------------------------------
    RuleInfo("M-SCHEMA", "The message does not validate against its schema", ("error",), "MedCom", MEDCOM_OIOXML,
             "The message does not validate against its XML schema (MedCom's official XSD, or medcom's 34C schemas "
             "written from real messages). Business rules still run on whatever could be parsed, so one run reports "
             "every problem. A timeline line that is not a valid event is M-SCHEMA too.",
             "medcom.formats.oioxml:read_emessage", commands=("validate", "replay"),
             example="An XDIS20 admission advice without its Admission time."),
    RuleInfo("M-CPR", "A CPR number is not 10 digits with a valid DDMMYY date", ("error",), "MedCom", MEDCOM_OIOXML,
             "A CPR number is not 10 digits with a valid DDMMYY date. Modulus-11 is NOT required (real CPR numbers "
             "issued since 2007 fail it). Replacement numbers (eCPR) are allowed where the schema allows them.",
             "medcom.formats.oioxml.checks:check_identifiers_and_times", commands=("validate", "replay"),
             reading="MedCom's own test CPR 2509479989 fails modulus-11 and is valid.",
             example="CivilRegistrationNumber 3102501234: there is no 31 February."),
    RuleInfo("M-GLN", "An EAN/GLN location number has a wrong check digit", ("warning",), "MedCom", MEDCOM_OIOXML,
             "An EAN/GLN location number is not 13 digits with a correct GS1 modulus-10 check digit.",
             "medcom.formats.oioxml.checks:check_identifiers_and_times", commands=("validate", "replay"),
             reading="A warning, not an error: MedCom's own sample messages carry location numbers that fail the "
                     "check digit, so real senders do too. VANS mailbox ids (DKKMDKMDNET) are not GLNs and are not "
                     "checked.",
             example="EANIdentifier 5790000120401 (the check digit should be 0)."),
    RuleInfo("M-MUNICIPALITY", "A municipality code is not one of the 98 Danish codes", ("error",), "MedCom",
             MEDCOM_OIOXML,
             "A municipality code is not one of the 98 Danish municipality codes (101-860, written 0101-0860 in some "
             "systems).",
             "medcom.formats.oioxml.checks:check_identifiers_and_times", commands=("validate", "replay"),
             example="MunicipalityCode 999."),
    RuleInfo("M-TIME", "A timestamp that does not exist, or a message sent before the event it reports",
             ("error", "warning"), "MedCom", MEDCOM_OIOXML,
             "A timestamp breaks T-2 (error in the spring gap, warning in the autumn fold), or a message is sent "
             "before the event it reports (a discharge advice sent before the discharge time). The second case is "
             "M-TIME in `validate`, which sees one message; `replay` judges the same fact by the rule of that message "
             "(ADM-1, DIS-1), whatever the format. A time outside the years medcom's calendar knows is M-TIME too.",
             "medcom.formats.oioxml.checks:check_identifiers_and_times", commands=("validate", "replay"),
             reading="`validate` checks \"sent before the event\" for OIOXML letters (the envelope's Sent against the "
                     "letter's Admission or Discharge); a FHIR message's is judged in replay only.",
             example="An Emessage sent 2025-03-30 02:30, a time the clocks skip when summer time starts."),
    RuleInfo("M-REF", "A reply, receipt, correction or cancellation refers to a message not in the log",
             ("warning", "info"), "MedCom", RELIABLE_MESSAGING,
             "A reply, receipt, correction or cancellation refers to a message that is not in the log. Such a "
             "finding belongs to the input, not to an episode that does not exist. Also, as info, a side-car that "
             "moves a message's time by a minute or more.",
             "medcom.replay.input_rules:_references", commands=("replay",),
             timeline=(_ADMIT, _line("2025-03-24T08:41", "admission_advice_sent", '"id": "A1"'),
                       _line("2025-03-24T10:00", "correspondence_sent",
                             '"sender": "municipality", "reply_to": "NOPE", "id": "C1"'))),
    RuleInfo("M-DUP", "The same message arrives again", ("info", "warning"), "MedCom", RELIABLE_MESSAGING,
             "The same message (same message id, same content) arrives again, in the same envelope or a new one: the "
             "duplicate is counted, not evaluated again, and gets the same receipt as the first (info). A copy in a "
             "new envelope is a resend and is also judged by M-RESEND. A message id used again for other content is "
             "a warning, and both messages are evaluated. An envelope or Bundle id reused for a different message is "
             "M-ENVELOPE.",
             "medcom.replay.input_rules:_duplicates", commands=("replay",),
             reading="`validate --receipts` answers a duplicate with a receipt of the same ids and content as the "
                     "first's.",
             timeline=(_ADMIT, _line("2025-03-24T08:41", "admission_advice_sent", '"id": "A1"'),
                       _line("2025-03-24T08:41", "admission_advice_sent", '"id": "A1"'))),
    RuleInfo("M-ORDER", "A correction or cancellation arrives before its original", ("info",), "MedCom",
             RELIABLE_MESSAGING,
             "A correction or cancellation arrives before its original; it is held and applied when the original "
             "arrives (or reported as M-REF at the end).",
             "medcom.replay.input_rules:_corrections", commands=("replay",),
             timeline=(_ADMIT, _line("2025-03-24T10:00", "care_plan_sent", '"id": "P2", "correction_of": "P1"'),
                       _line("2025-03-24T11:00", "care_plan_sent", '"id": "P1"'))),
    RuleInfo("M-STATUS", "A corrected or cancelled letter does not name the letter it changes", ("error",), "MedCom",
             MEDCOM_OIOXML,
             "A corrected (rettetbrev) or cancelled (annulleretbrev) letter does not name the letter it changes. A "
             "cancelled message is removed from rule evaluation; a corrected one replaces its original.",
             "medcom.replay.input_rules:_corrections", commands=(),
             reading="Not reported: the real formats leave no place to name the letter (the 2005 generation's Letter "
                     "has only its StatusCode, 34C letters have no StatusCode at all), so a correction or "
                     "cancellation that names nothing changes the previous letter of its family in the episode, and "
                     "one with no earlier letter to change is M-REF. A FHIR RE_/AN_ notification changes the one its "
                     "Provenance names."),
    RuleInfo("M-RECEIPT", "A message that asks for a receipt gets none within 30 minutes", ("warning",), "MedCom",
             RELIABLE_MESSAGING,
             "A message that asks for a positive receipt gets no receipt (positive or negative) within 30 minutes; a "
             "receipt is never itself receipted. Checked only where the log holds receipts at all (a log exported "
             "without them cannot show them); the report then says that M-RECEIPT was not checked "
             "(`summary.not_checked`).",
             "medcom.engine.rules.receipts:Receipts", ("messages.receipt_timeout",), commands=("replay",),
             reading="A timeline's messages ask for a receipt where the log holds any receipts.",
             timeline=(_ADMIT, _line("2025-03-24T08:41", "admission_advice_sent", '"id": "A1"'),
                       _line("2025-03-24T09:12", "admission_report_sent", '"id": "R1"'),
                       '{"episode": "E1", "at": "2025-03-24T09:13", "event": "receipt_sent", "ref": "R1", '
                       '"positive": true}')),
    # --- Admission (ADM, §4A) -------------------------------------------------------------------------------------
    RuleInfo("ADM-1", "The admission advice is sent at the admission, before any other message", ("error",),
             "agreement", _ag("§4A"),
             "An admission advice (indlæggelsesadvis) is sent at or after the admission time and before any other "
             "message of the episode; it names where the admission report must be sent (AnswerTo).",
             "medcom.engine.rules.admission:AdmissionAdvice",
             reading="A corrected advice is not a second first message. An advice sent before the admission it "
                     "reports is ADM-1 in replay (M-TIME in validate).",
             timeline=(_ADMIT, _line("2025-03-24T09:12", "admission_report_sent", '"id": "R1"'),
                       _line("2025-03-24T09:20", "admission_advice_sent", '"id": "A1"'))),
    RuleInfo("ADM-2", "The municipality's admission report answers the advice within 60 minutes", ("info",),
             "agreement", _ag("§4A"),
             "The municipality's automatic admission report (indlæggelsesrapport) answers the advice, expected within "
             "60 minutes. If none comes and the patient will need municipal help, the hospital must send a care plan "
             "(which creates the citizen in the municipal system): reported as an obligation.",
             "medcom.engine.rules.admission:AdmissionReport", ("admission.report_within",),
             timeline=(_ADMIT, _line("2025-03-24T08:41", "admission_advice_sent", '"id": "A1"')),
             commands=("replay",)),  # obligations only: the simulation's metrics read none, and it runs it not
    # --- Care plan (CP, §4B.1-4B.4) ---------------------------------------------------------------------------------
    RuleInfo("CP-1", "The first care plan by 14:00 on the last weekday before the ready day", ("warning",),
             "agreement", _ag("§4B.1-4B.4"),
             "The episode's first care plan (plejeforløbsplan) is sent at the latest 14:00 on the last weekday before "
             "the ready-for-discharge day (færdigbehandlingsdag; the local date of the ready time). Ready on Monday: "
             "the deadline is the previous Friday 14:00 (Thursday if that Friday is a holiday). Ready in the morning "
             "after an admission the same day: the deadline is already past, CP-1 is reported and CP-2 applies.",
             "medcom.engine.rules.care_plan:CarePlanDeadline", ("care_plan.cutoff", "calendar.extra_closed_days"),
             reading="The ready time is the episode's last one (a later `ready_for_discharge` revises the earlier "
                     "one, from a timeline or a message's end-of-treatment field alike); an episode with no ready "
                     "time (an unplanned discharge) has none and nothing is invented from the discharge. \"At the "
                     "latest 14:00\" includes 14:00:00.",
             timeline=(_ADMIT, _line("2025-03-24T08:41", "admission_advice_sent", '"id": "A1"'),
                       _line("2025-03-26T10:00", "ready_for_discharge"),
                       _line("2025-03-25T15:00", "care_plan_sent", '"id": "P1"'))),
    RuleInfo("CP-2", "When CP-1 is missed, the hospital phones the municipality before the discharge", ("warning",),
             "agreement", _ag("§4B.1-4B.4"),
             "When CP-1 is missed, a phone contact from the hospital to the municipality must come before the "
             "discharge. Only checkable where the log holds phone events; otherwise reported as an open obligation.",
             "medcom.engine.rules.care_plan:PhoneWhenLate",
             timeline=(_ADMIT, _line("2025-03-24T08:41", "admission_advice_sent", '"id": "A1"'),
                       _line("2025-03-26T10:00", "ready_for_discharge"),
                       _line("2025-03-25T15:00", "care_plan_sent", '"id": "P1"'),
                       _line("2025-03-26T09:00", "phone_call", '"caller": "municipality"'),
                       _line("2025-03-27T10:00", "discharged", '"destination": "home"'))),
    RuleInfo("CP-3", "One care plan per admission unless the first names a special-coordination reason",
             ("warning",), "agreement", _ag("§4B.1-4B.4"),
             "One care plan per admission. A second original care plan is allowed only when the first names a "
             "special-coordination reason: care bed or lift; special aids; care by two or more people or several "
             "extra hours a day; small aids cannot go with the patient; major home changes; an emergency call must "
             "be installed; the patient cannot return to the previous home; the patient cannot consent to moving "
             "(guardianship); a discharge conference. Corrections (rettetbrev) and the revised final plan after a "
             "discharge conference are not second originals.",
             "medcom.engine.rules.care_plan:OneCarePlan",
             reading="A 34C care plan names a reason by its DischargeConference or HomeChanges block.",
             timeline=(_ADMIT, _line("2025-03-24T10:00", "care_plan_sent", '"id": "P1"'),
                       _line("2025-03-25T10:00", "care_plan_sent", '"id": "P2"'))),
    # --- Acknowledgement (ACK, §4B.5) -------------------------------------------------------------------------------
    RuleInfo("ACK-1", "A care plan received on a weekday before 14:00 is acknowledged the same day", ("warning",),
             "agreement", _ag("§4B.5"),
             "A care plan received on a weekday before 14:00 is acknowledged by the municipality the same day (by "
             "23:59:59 local) with a correspondence message that refers to it. Received at or after 14:00, or on a "
             "non-weekday: a phone contact with verbal acknowledgement is expected instead, at or after the plan was "
             "sent; an electronic acknowledgement is still welcome and not an error.",
             "medcom.engine.rules.acknowledgement:SameDayAcknowledgement",
             ("acknowledgement.cutoff", "calendar.extra_closed_days"),
             reading="An acknowledgement that names no care plan acknowledges the episode's latest care plan sent "
                     "before it that is not yet acknowledged; the municipality's first reply to an unacknowledged "
                     "plan is its acknowledgement, not a question (ACK-3). The phone contact is checked where the log "
                     "records phone calls, else listed as an obligation. \"Before 14:00\" excludes 14:00:00.",
             timeline=(_ADMIT, _line("2025-03-24T10:00", "care_plan_sent", '"id": "P1"'),
                       _line("2025-03-25T09:00", "care_plan_ack_sent",
                             '"ref": "P1", "decision": "accept", "discharge_at": "2025-03-27T10:00"'))),
    RuleInfo("ACK-2", "An acceptance carries the agreed discharge time; a rejection a reason", ("error",),
             "agreement", _ag("§4B.5"),
             "The acknowledgement is either an acceptance that carries the agreed discharge time, or a rejection "
             "that carries a reason (more coordination needed / cannot receive on the ready day / other).",
             "medcom.engine.rules.acknowledgement:AcknowledgementContent",
             reading="A decision and agreed time written as free text in a CareCommunication or XDIS91 are an "
                     "obligation in the report (\"read the reply\"), never a guess.",
             timeline=(_ADMIT, _line("2025-03-24T10:00", "care_plan_sent", '"id": "P1"'),
                       _line("2025-03-24T11:00", "care_plan_ack_sent", '"ref": "P1", "decision": "accept"'))),
    RuleInfo("ACK-3", "The hospital answers a question about the care plan by the end of the next weekday",
             ("warning",), "agreement", _ag("§4B.5"),
             "A question from the municipality about a care plan (correspondence) is answered by the hospital by the "
             "end of the next weekday.",
             "medcom.engine.rules.acknowledgement:QuestionAnswered", ("calendar.extra_closed_days",),
             reading="Municipal correspondence about a plan is a question once the plan has been acknowledged; "
                     "before that it is the acknowledgement itself.",
             timeline=(_ADMIT, _line("2025-03-24T10:00", "care_plan_sent", '"id": "P1"'),
                       _line("2025-03-24T11:00", "care_plan_ack_sent",
                             '"ref": "P1", "decision": "accept", "discharge_at": "2025-03-27T10:00"'),
                       _line("2025-03-24T12:00", "correspondence_sent",
                             '"sender": "municipality", "reply_to": "P1", "id": "Q1"'))),
    # --- Correspondence (COR, §2.2) ---------------------------------------------------------------------------------
    RuleInfo("COR-1", "Hospital correspondence is handled the same weekday, or by the end of the next",
             ("warning",), "agreement", _ag("§2.2"),
             "Correspondence from hospital to municipality sent on a weekday before 14:00 is handled the same day; "
             "sent at or after 14:00 or on a non-weekday, by the end of the next weekday. Where a reply refers to "
             "it, the reply must come by then.",
             "medcom.engine.rules.correspondence:CorrespondenceHandled",
             ("correspondence.cutoff", "calendar.extra_closed_days"),
             reading="Checked only where a reply refers to the hospital's message.",
             timeline=(_ADMIT, _line("2025-03-24T10:00", "correspondence_sent",
                                     '"sender": "hospital", "id": "C1", "subject": "x"'),
                       _line("2025-03-25T10:00", "correspondence_sent",
                             '"sender": "municipality", "reply_to": "C1", "id": "C2"'))),
    RuleInfo("COR-2", "Correspondence to the hospital after the discharge is not acted upon", ("warning",),
             "agreement", _ag("§2.2"),
             "Correspondence from municipality to hospital received after the patient was discharged is not acted "
             "upon by the hospital; the report tells the sender (within the 72-hour window, phone the discharging "
             "department).",
             "medcom.engine.rules.correspondence:AfterDischargeCorrespondence",
             timeline=(_ADMIT, _line("2025-03-25T10:00", "discharged", '"destination": "home"'),
                       _line("2025-03-25T12:00", "correspondence_sent", '"sender": "municipality", "id": "C1"'))),
    # --- Conference and completion (CONF, FM, §4B.6-4B.7, annex 3-4) -----------------------------------------------
    RuleInfo("CONF-1", "A discharge conference by the end of the next weekday after the care plan", ("info",),
             "agreement", _ag("§4B.6"),
             "A discharge conference is held, typically, by the end of the next weekday after the care plan.",
             "medcom.engine.rules.completion:ConferenceHeld", ("calendar.extra_closed_days",),
             reading="The conference counts as held when the hospital is ready to hold it (`conference_ready`); "
                     "checked for episodes that have one.",
             timeline=(_ADMIT, _line("2025-03-24T10:00", "care_plan_sent", '"id": "P1"'),
                       _line("2025-03-27T10:00", "conference_ready"))),
    RuleInfo("FM-1", "A completion notice by the end of the ready day when the agreed discharge is later",
             ("warning",), "agreement", _ag("§4B.7, annex 3-4"),
             "When the agreed discharge date is later than the ready date, the hospital sends a completion notice "
             "(melding om færdigbehandling) no later than the end of the ready day.",
             "medcom.engine.rules.completion:CompletionNotice",
             reading="The agreed discharge is the latest acceptance known by the end of the ready day; the ready day "
                     "is that of the episode's last ready time.",
             timeline=(_ADMIT, _line("2025-03-24T10:00", "care_plan_sent", '"id": "P1"'),
                       _line("2025-03-24T11:00", "care_plan_ack_sent",
                             '"ref": "P1", "decision": "accept", "discharge_at": "2025-03-28T10:00"'),
                       _line("2025-03-26T10:00", "ready_for_discharge"))),
    # --- Completion tax (TAX, annex 4; sundhedsloven § 238) --------------------------------------------------------
    RuleInfo("TAX-1", "Completion-tax days: local midnights from the effective ready time to the discharge", (),
             "agreement", f"{_ag('annex 4')}; {SUNDHEDSLOVEN}",
             "Start = the effective ready time: the ready-for-discharge time, moved later to (a) the hospital's first "
             "contact to the municipality in the episode (care plan, completion notice, correspondence or phone "
             "call) if that came after the ready time, then (b) if that instant is outside 08:00-21:00 local, to the "
             "next 08:00. Days = the number of local midnights (Europe/Copenhagen) after the start and up to the "
             "discharge, or up to the death where the stay ends in death (a death ends the count; no 72-hour window "
             "follows). Ready Monday 10:00, discharged Monday 18:00: 0; discharged Tuesday 09:00: 1; Thursday "
             "11:00: 3.",
             "medcom.engine.rules.tax:CompletionTax",
             ("completion_tax.contact_window_opens", "completion_tax.contact_window_closes"),
             reading="The contact window 08:00-21:00 includes both ends."),
    RuleInfo("TAX-2", "Completion-tax rates per year, tiered from day 3", (), "agreement",
             f"{_ag('annex 4')}; {SUNDHEDSLOVEN}",
             "Day 1 and 2 and day 3 onwards may have different daily rates (since 2017 the state adds to the region's "
             "charge and escalates from day 3). Rates are policy data per year, never code; the shipped default is "
             "the 2016 price level (3,952 DKK a day for days 1-2, 5,928 DKK from day 3). A counted day is priced at "
             "the rate table of the year of its counted date; its tier is its position in the episode's count.",
             "medcom.engine.completion_tax:count_tax", ("completion_tax.rates",),
             reading="A year uses the rates of the latest listed year not after it (the earliest listed if none is)."),
    RuleInfo("TAX-3", "Days not counted: a terminal patient who wishes to stay, days on leave", (), "agreement",
             _ag("§8, annex 4"),
             "Not counted: a terminal patient in the terminal phase who wishes to stay (§8); days on leave: a "
             "midnight that falls inside a leave period is not counted.",
             "medcom.engine.completion_tax:count_tax"),
    RuleInfo("TAX-4", "The start moves to a discharge conference or a guardianship hand-over", (), "agreement",
             _ag("annex 3-4"),
             "The start moves later still: where a discharge conference is needed, to the time the hospital is ready "
             "to hold it; in a guardianship case, to the hand-over of the health information for the application.",
             "medcom.engine.completion_tax:effective_start"),
    RuleInfo("TAX-5", "Disputable days: no care plan before the ready time", (), "agreement", _ag("annex 4"),
             "Where no care plan was sent before the ready time (\"administratively ready\" needs a full care plan), "
             "every counted day of the episode is disputable. They stay in the count and are also reported as "
             "`disputable_days` with the reason.",
             "medcom.engine.completion_tax:count_tax"),
    # --- Discharge (DIS, §4B.8) -------------------------------------------------------------------------------------
    RuleInfo("DIS-1", "The discharge advice is sent at the discharge, within 60 minutes", ("error",), "agreement",
             _ag("§4B.8"),
             "A discharge advice (udskrivningsadvis) is sent at or after the discharge time, within 60 minutes.",
             "medcom.engine.rules.discharge:DischargeAdvice", ("discharge.advice_within",),
             reading="An advice sent before the discharge is the advice that came, too early: DIS-1 in replay (M-TIME "
                     "in validate), not also a missing advice.",
             timeline=(_ADMIT, _line("2025-03-25T10:00", "discharged", '"destination": "home"'),
                       _line("2025-03-25T12:00", "discharge_advice_sent", '"id": "D1"'))),
    RuleInfo("DIS-2", "The discharge report at the discharge, at the latest 60 minutes after", ("warning",),
             "agreement", _ag("§4B.8"),
             "The discharge report (udskrivningsrapport) is sent at the discharge, at the latest 60 minutes after. "
             "Sent at or after 14:00 on a weekday or on a non-weekday, a phone call is required when the "
             "municipality must act before the next weekday (an obligation: the log does not say whether it must).",
             "medcom.engine.rules.discharge:DischargeReport",
             ("discharge.report_within", "discharge.phone_cutoff", "calendar.extra_closed_days"),
             timeline=(_ADMIT, _line("2025-03-25T10:00", "discharged", '"destination": "home"'),
                       _line("2025-03-25T12:00", "discharge_report_sent", '"id": "D2"'))),
    RuleInfo("DIS-3", "The discharge report states the 72-hour responsibility and its end", ("warning",),
             "agreement", _ag("§4B.8, §5.2"),
             "When the 72-hour responsibility applies (R72-1), the discharge report's future-agreements field states "
             "it and when it ends; a stated end that differs from the end computed by R72-1 (elapsed time, T-1) is a "
             "violation too.",
             "medcom.engine.rules.responsibility:ExtendedResponsibility", ("extended_responsibility.window",),
             timeline=(_ADMIT, _line("2025-03-26T10:00", "ready_for_discharge"),
                       _line("2025-03-27T10:00", "discharged", '"destination": "home_nursing"'),
                       _line("2025-03-27T10:30", "discharge_report_sent", '"id": "D2"'))),
    RuleInfo("DIS-4", "An unplanned discharge is followed by a message or call the same day", ("info",),
             "agreement", _ag("§4B.8"),
             "An unplanned discharge (the patient leaves without agreement) is followed by a message or phone contact "
             "to the municipality the same day.",
             "medcom.engine.rules.discharge:UnplannedDischarge",
             timeline=(_ADMIT, _line("2025-03-25T10:00", "discharged", '"destination": "home", "unplanned": true'))),
    # --- 72-hour responsibility (R72, §5.2) -------------------------------------------------------------------------
    RuleInfo("R72-1", "The discharging department's 72-hour responsibility after the discharge", (), "agreement",
             _ag("§5.2"),
             "The discharging department holds the medical responsibility for 72 hours after the discharge (elapsed "
             "time, T-1) when the patient was ready for discharge, was admitted at least 24 hours (elapsed), to a "
             "somatic hospital, and is discharged to a temporary municipal place, a nursing home, or home nursing "
             "(including a residential offer). The hospital may extend the window; the new end replaces the old. "
             "The report's `extended_responsibility` says whether it applies, until when, and else why not; its "
             "statement in the discharge report is DIS-3.",
             "medcom.engine.completion_tax:responsibility_window",
             ("extended_responsibility.window", "extended_responsibility.min_stay",
              "extended_responsibility.destinations"),
             reading="\"At least 24 hours\" includes exactly 24 hours. A death ends the episode: no window follows."),
    RuleInfo("R72-2", "Who answers inquiries about the patient after the discharge", (), "agreement", _ag("§5.2"),
             "Inquiries about the patient inside the window go to the discharging department (central phone); after "
             "it, to the general practitioner. Replay reports, for each inquiry (`inquiries`), who was responsible.",
             "medcom.engine.rules.responsibility:ExtendedResponsibility"),
    # --- Leave (LEAVE, §7) -------------------------------------------------------------------------------------------
    RuleInfo("LEAVE-1", "Leave lasts at most 72 hours; a trial discharge is leave", ("warning",), "agreement",
             _ag("§7"),
             "A trial discharge is registered as leave, not as a discharge and new admission. One leave period lasts "
             "at most 3 days (72 hours elapsed); around public holidays two consecutive periods are allowed. A "
             "discharge followed by a re-admission of the same patient within 72 hours that the log shows as planned "
             "is reported too.",
             "medcom.engine.rules.leave:Leave", ("leave.max_period", "leave.readmission_window"),
             reading="Periods are consecutive when one starts at most an hour after the previous one's end.",
             timeline=(_ADMIT, _line("2025-03-24T12:00", "leave_started"), _line("2025-03-28T12:00", "leave_ended"))),
    # --- Terminal patients (TERM, §8) --------------------------------------------------------------------------------
    RuleInfo("TERM-1", "A terminal patient has the terminal declaration at the discharge", ("warning",),
             "agreement", _ag("§8"),
             "A terminal patient discharged to home, nursing home or hospice has a terminal declaration at the "
             "discharge (or at the discharge conference).",
             "medcom.engine.rules.terminal:TerminalDeclaration",
             reading="A declaration dated after the discharge came too late.",
             timeline=(_ADMIT, _line("2025-03-25T10:00", "discharged", '"destination": "hospice"'),
                       _line("2025-03-25T12:00", "terminal"))),
    # --- Added by medcom ---------------------------------------------------------------------------------------------
    RuleInfo("M-XML", "The input is not a well-formed, safe document", ("error", "warning"), "medcom",
             "added by medcom",
             "The input is not a well-formed, safe XML document (empty, truncated, not XML, an unsupported or wrong "
             "encoding, a DOCTYPE/entity declaration, over the size limit, more than 100,000 elements and "
             "attributes, an unreadable file, directory or archive member, a FIFO or device, an empty or broken "
             "wrapper, wrappers nested too deep); a warning where a wrapper's own bookkeeping is off and its "
             "content is still read (a VANS SizeInBytes that is not a number; a VANS Document Name/Version or an "
             "SBDH Type/TypeVersion that does not name a letter it carries, each letter compared). Kept apart "
             "from M-SCHEMA so that suppressions and CI can tell "
             "\"not a message at all\" from \"a message with schema errors\".",
             "medcom.formats.read:read_document", ("messages.max_message_bytes", "messages.max_timeline_bytes"),
             reading="An SBDH Type `Emessage` (any case) names the document's root element, as SBDH types do and "
                     "MedCom's 34C samples have it: it names no family, and only its TypeVersion is compared.",
             commands=("validate", "replay"), example="An XML file that declares an entity (billion laughs)."),
    RuleInfo("M-VERSION", "A namespace, family or version code medcom does not know", ("error", "info"), "medcom",
             "added by medcom",
             "An Emessage of a namespace, family or version code medcom does not know (error; the negative receipt's "
             "refuse code is `problem_med_version`). A MedCom letter outside admission and discharge, such as a lab "
             "report in the same VANS mailbox, is an info: counted, not replayed.",
             "medcom.formats.oioxml:read_emessage", commands=("validate", "replay"),
             reading="A letter's StatisticalCode is its family's code (XDIS20 in a NotificationOfAdmission, XCTL03 in "
                     "a PositiveReceipt): MedCom's XSDs type it as any 1-8 characters, but every MedCom sample carries "
                     "its family's code, the code the XSDs pin the TypeCode to; another is an error, as a VersionCode "
                     "of another family is.",
             example="An XDIS20 letter with VersionCode XD2099C."),
    RuleInfo("M-ENVELOPE", "An envelope or Bundle id reused for another message", ("error",), "medcom",
             f"added by medcom, after {RELIABLE_MESSAGING}",
             "An envelope id (OIOXML envelope, VANS envelope, SBDH InstanceIdentifier, FHIR Bundle.id) reused for a "
             "different message, receipts included. (A wrapper that cannot be opened is M-XML: there is no message.)",
             "medcom.replay.input_rules:_envelopes", commands=("replay",),
             example="Two XDIS21 care plans with different letter ids sent in envelopes with the same Identifier."),
    RuleInfo("M-RESEND", "A resend against MedCom's reliable messaging", ("warning",), "medcom",
             f"added by medcom, after {RELIABLE_MESSAGING}",
             "A message resent in a new envelope although its receipt had come, sooner than the receipt timeout "
             "after the previous copy, or more than `messages.max_resends` times. A resend is counted as a duplicate "
             "(M-DUP) and replayed once.",
             "medcom.replay.input_rules:_check_resend", ("messages.receipt_timeout", "messages.max_resends"),
             commands=("replay",),
             reading="The same message (same id, same content) in a new envelope, after the receipt timeout without a "
                     "receipt, at most twice.",
             example="A care plan resent in a new envelope 10 minutes after the first copy."),
    RuleInfo("M-NOTIFY", "A hospital notification later than 15 minutes after its event", ("warning",), "medcom",
             f"added by medcom, after {MEDCOM_FHIR} (HospitalNotification: \"sent automatically, in real time\")",
             "A HospitalNotification or admission advice sent more than `messages.notification_within` after the "
             "admission or leave it reports; the discharge advice has DIS-1.",
             "medcom.engine.rules.notifications:NotificationAtTheEvent", ("messages.notification_within",),
             reading="\"In real time\" is read as within 15 minutes, a policy value because the standard names no "
                     "figure.",
             timeline=(_ADMIT, _line("2025-03-24T09:40", "admission_advice_sent", '"id": "A1"'))),
    RuleInfo("M-SIDECAR", "A log holds more than one events.jsonl side-car", ("info",), "medcom", "added by medcom",
             "A log holds more than one `events.jsonl` side-car; all are read, and this lists them.",
             "medcom.replay.load:read_log", commands=("replay",),
             example="A log with events.jsonl both at its top and in a subfolder."),
    RuleInfo("F-JSON", "Not readable as FHIR JSON", ("error",), "medcom", f"added by medcom, after {MEDCOM_FHIR}",
             "The document does not read as FHIR JSON (hardened: size, nesting depth, number length, encoding, "
             "duplicate keys).",
             "medcom.formats.fhir.jsonread", commands=("validate", "replay"),
             example="A Bundle with the key \"id\" twice in one object."),
    RuleInfo("F-XML", "Not readable as FHIR XML", ("error",), "medcom", f"added by medcom, after {MEDCOM_FHIR}",
             "The document does not read as FHIR XML, or breaks its form (no DTD or entities; a type's elements in "
             "the specification's order, a repeating element's items together; no element without a value or "
             "children; no text content). FHIR XML is read into FHIR JSON's shape with each element's line.",
             "medcom.formats.fhir.xmlread", commands=("validate", "replay"),
             example="A FHIR XML Bundle that declares a DOCTYPE."),
    RuleInfo("F-STRUCTURE", "The FHIR R4 base model is broken", ("error", "warning"), "medcom",
             f"added by medcom, after {MEDCOM_FHIR}",
             "The FHIR base model (R4 as `fhir.resources`' R4B models describe it): unknown elements, arrays only "
             "where an element repeats, the JSON type of every primitive and its lexical form (R4's regular "
             "expression, and R4's prose where it is stricter), empty values and elements with neither a value "
             "nor children (ele-1), a choice element given twice, unknown resource types; a warning for a control "
             "character in a string (R4: SHOULD NOT).",
             "medcom.formats.fhir.structure", commands=("validate", "replay"),
             example="A Patient with \"birthDate\": 19470925 (a number where FHIR has a string).",
             reading="Each message is judged by the IG version it declares (MessageHeader.definition, meta.profile) "
                     "with that IG's own dependency closure; one that declares none by the newest version it "
                     "conforms to. "
                     "No error is softened because of a version difference."),
    RuleInfo("F-PROFILE", "A MedCom profile is broken", ("error", "warning"), "medcom",
             f"added by medcom, after {MEDCOM_FHIR}",
             "MedCom's StructureDefinition snapshots from the shipped IG packages: cardinality, fixed and pattern "
             "values, types and target profiles of references (resolved inside the Bundle), slices, extensions.",
             "medcom.formats.fhir.validator", commands=("validate", "replay"),
             reading="Each message is judged by the IG version it declares (MessageHeader.definition, meta.profile) "
                     "with that IG's own dependency closure; one that declares none by the newest version it "
                     "conforms to. "
                     "No error is softened because of a version difference.",
             example="A HospitalNotification whose Encounter has no class."),
    RuleInfo("F-BINDING", "A code outside the value set of a required binding", ("error", "warning"), "medcom",
             f"added by medcom, after {MEDCOM_FHIR}",
             "Required bindings to value sets the shipped packages can expand (MedCom's own code systems).",
             "medcom.formats.fhir.validator", commands=("validate", "replay"),
             reading="Bindings to value sets defined by filter or over SNOMED CT and HL7 v3 are left unchecked "
                     "(F-UNCHECKED), never guessed.",
             example="A coded element whose required binding is to one of MedCom's own value sets, with a code that "
                     "value set does not hold."),
    RuleInfo("F-INVARIANT", "A profile's FHIRPath constraint is violated", ("error", "warning"), "medcom",
             f"added by medcom, after {MEDCOM_FHIR}",
             "The profiles' and FHIR's base invariants (constraint expressions), evaluated with `fhirpathpy`, with "
             "`resolve()`, `hasValue()`, `conformsTo()` and `memberOf()` supplied (MedCom's own invariants are "
             "answered natively where their exact expression is one medcom knows, and tested against fhirpathpy; "
             "ext-1 on every extension, also where no profile reaches; the narrative's `htmlChecks()` (txt-1, "
             "txt-2) by R4's lists of XHTML elements and attributes, parsed without DTD, entities or network).",
             "medcom.formats.fhir.checkers", commands=("validate", "replay"),
             example="A Bundle of type message whose first entry is not its MessageHeader (bdl-12)."),
    RuleInfo("F-EVENT", "A HospitalNotification whose event cannot be told", ("error",), "medcom",
             f"added by medcom, after {MEDCOM_FHIR}",
             "A HospitalNotification names its event by the activity of the Provenance that targets its own "
             "MessageHeader: where no Provenance does, or its activity is not a HospitalNotification activity, the "
             "message tells nothing the agreement can use; it is reported, never read as a silent no-op.",
             "medcom.formats.fhir.messages", commands=("validate", "replay"),
             example="A HospitalNotification whose only Provenance targets another message's MessageHeader."),
    RuleInfo("F-EVENT-STATUS", "A HospitalNotification's activity and Encounter.status disagree", ("error",),
             "medcom", f"added by medcom, after {MEDCOM_FHIR}",
             "The Provenance activity (STIN, STAA, STOR, SLOR, SLHJ, MORS, ...) and the Encounter's status must tell "
             "the same event (MedCom's HospitalNotification IG, its table of activities, statuses and classes).",
             "medcom.formats.fhir.messages", commands=("validate", "replay"),
             reading="The IG's table is prose, not a StructureDefinition: medcom holds it as data and reports every "
                     "disagreement as an error.",
             example="An SLHJ (discharge home) whose Encounter.status is onleave."),
    RuleInfo("F-EVENT-CLASS", "A HospitalNotification's activity and Encounter.class disagree", ("error",),
             "medcom", f"added by medcom, after {MEDCOM_FHIR}",
             "The Provenance activity and the Encounter's class (inpatient, emergency, ambulatory) must tell the same "
             "event (MedCom's HospitalNotification IG).",
             "medcom.formats.fhir.messages", commands=("validate", "replay"),
             example="An admit-emergency (STAA) notification whose Encounter.class is IMP (inpatient)."),
    RuleInfo("M-PATIENT", "An episode-of-care id that names more than one patient", ("warning",), "medcom",
             "added by medcom",
             "One episode-of-care id carried by messages about two different CPR numbers: each further patient's "
             "messages are replayed as an episode of their own, and this says so (it is not M-REF, which is a "
             "reference to a message not in the log). An id counts as the episode it is an alias of: an LPR3 id "
             "that a message names beside the local id, a side-car's episode name.",
             "medcom.replay.input_rules:_separate_patients", commands=("replay",),
             example="An admission advice and a care plan with the same episode-of-care id and different CPR numbers."),
    RuleInfo("F-UNCHECKED", "What a FHIR message could not be checked for", ("info",), "medcom", "added by medcom",
             "A profile, value set or expression that the shipped packages do not hold: said, never guessed.",
             "medcom.formats.fhir.validator", commands=("validate", "replay"),
             example="An element bound to a value set of the hl7.fhir.dk.core package, which medcom does not ship."),
)

BY_ID: dict[str, RuleInfo] = {r.id: r for r in RULES}


def rule(rule_id: str) -> RuleInfo:
    """The entry for `rule_id` (case ignored); KeyError naming close matches when there is none."""
    found = BY_ID.get(rule_id.upper())
    if found is None:
        raise KeyError(rule_id)
    return found


def close_matches(rule_id: str) -> list[str]:
    """Catalogued ids that look like `rule_id` (for "did you mean")."""
    wanted = rule_id.upper()
    prefix = [i for i in BY_ID if i.split("-")[0] == wanted.split("-")[0]] if "-" in wanted else []
    similar = difflib.get_close_matches(wanted, BY_ID, n=5, cutoff=0.5)
    return list(dict.fromkeys([*similar, *prefix]))[:8]
