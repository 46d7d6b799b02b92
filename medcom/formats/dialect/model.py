"""Typed model of the MedCom-style admission/discharge messages (eight families, see MESSAGES.md).

Every message is an `Emessage`: an envelope and one letter. Field order here is element order in
the XML (`medcom.formats.dialect.codec` writes and reads the model by reflection; `schemas/` describes the same shape).
Times are aware datetimes; in XML they are Copenhagen local time without offset, as in OIOXML.
Enum values are the Danish codes used in the XML; their names are the English words of CONTRACT.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar


def xml(name: str | None = None, *, item: str | None = None, default: object = ...) -> object:
    """Field metadata: the element's name (default: the field name in CamelCase) and, for a tuple,
    the name of each repeated item element inside the container."""
    meta = {"xml": name, "item": item}
    if default is ...:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


class LetterStatus(enum.StrEnum):
    NEW = "nytbrev"
    CORRECTED = "rettetbrev"
    CANCELLED = "annulleretbrev"


class IdentifierKind(enum.StrEnum):
    HOSPITAL_DEPARTMENT = "sygehusafdelingsnummer"
    PROVIDER = "ydernummer"
    LOCATION = "lokationsnummer"
    MUNICIPALITY = "kommunenummer"
    SOR = "sorkode"


class EpisodeStatus(enum.StrEnum):
    ADMITTED = "indlagt"
    DISCHARGED_HOME = "udskrevet_til_hjemmet"
    DISCHARGED_OTHER = "udskrevet_til_andet"
    MOVED_DEPARTMENT = "flyttet_til_sygehusafd"
    DECEASED = "doed"


class DepartmentKind(enum.StrEnum):
    SOMATIC = "somatisk"
    PSYCHIATRIC = "psykiatrisk"


class Destination(enum.StrEnum):
    """Where the patient goes at discharge (CONTRACT.md `discharged.destination`)."""

    HOME = "hjem"
    HOME_NURSING = "hjemmesygepleje"
    NURSING_HOME = "plejebolig"
    TEMPORARY_PLACE = "midlertidig_plads"
    HOSPICE = "hospice"
    OTHER = "andet"


class SpecialCoordination(enum.StrEnum):
    """The reasons that allow more than one care plan (RULES.md CP-3, agreement §4.2)."""

    CARE_BED_OR_LIFT = "plejeseng_lift"
    SPECIAL_AIDS = "specialhjaelpemidler"
    SEVERAL_CARERS = "flere_hjaelpere"
    SMALL_AIDS_CANNOT_FOLLOW = "smaahjaelpemidler"
    MAJOR_HOME_CHANGES = "boligaendringer"
    EMERGENCY_CALL = "noedkald"
    CANNOT_RETURN_HOME = "ikke_hidtidig_bolig"
    CANNOT_CONSENT = "samtykke_vaergemaal"
    DISCHARGE_CONFERENCE = "udskrivningskonference"


class Priority(enum.StrEnum):
    ROUTINE = "rutine"
    HIGH = "hoej"


class AckDecision(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "afvis"


class RejectReason(enum.StrEnum):
    """ACK-2: why a municipality rejects the proposed discharge."""

    MORE_COORDINATION = "mere_koordinering"
    CANNOT_RECEIVE_ON_READY_DAY = "kan_ikke_modtage"
    OTHER = "andet"


class AcknowledgementCode(enum.StrEnum):
    """Whether the sender asks for a positive receipt."""

    POSITIVE_RECEIPT = "pluspositivkvittering"
    NO_POSITIVE_RECEIPT = "minuspositivkvittering"


class RefuseCode(enum.StrEnum):
    """Negative receipt refuse codes."""

    UNSPECIFIED = "ikke_specificeret"
    UNKNOWN_LOCATION = "ukendt_lokationsnummer"
    RECEIVER_ID = "problem_med_modtagerID"
    VERSION = "problem_med_version"
    SYNTAX = "syntaksfejl"


# ---- common blocks -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Envelope:
    sent: datetime
    identifier: str
    acknowledgement: AcknowledgementCode = xml("AcknowledgementCode")

    @property
    def receipt_requested(self) -> bool:
        return self.acknowledgement is AcknowledgementCode.POSITIVE_RECEIPT


@dataclass(frozen=True, kw_only=True)
class Party:
    ean: str = xml("EANIdentifier")
    identifier: str
    identifier_kind: IdentifierKind = xml("IdentifierCode")
    organisation: str = xml("OrganisationName")
    department: str | None = xml("DepartmentName", default=None)
    unit: str | None = xml("UnitName", default=None)
    phone: str | None = xml("TelephoneSubscriberIdentifier", default=None)


@dataclass(frozen=True, kw_only=True)
class Patient:
    cpr: str = xml("CivilRegistrationNumber")
    surname: str = xml("PersonSurnameName")
    given_name: str = xml("PersonGivenName")
    status: EpisodeStatus | None = xml("EpisodeOfCareStatusCode", default=None)


@dataclass(frozen=True, kw_only=True)
class Letter:
    identifier: str
    status: LetterStatus = xml("StatusCode")
    changes_letter: str | None = xml("ChangesLetterIdentifier", default=None)  # M-STATUS
    episode_of_care_id: str = xml("EpisodeOfCareIdentifier")
    authorised: datetime = xml("Authorisation")


@dataclass(frozen=True, kw_only=True)
class FunctionLevel:
    """An ICF-coded ability with a score 0 (no limitation) to 4 (complete limitation)."""

    icf_code: str = xml("ICFCode")
    score: int


@dataclass(frozen=True, kw_only=True)
class NursingArea:
    area: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Contact:
    name: str
    relation: str
    phone: str | None = xml("TelephoneSubscriberIdentifier", default=None)


@dataclass(frozen=True, kw_only=True)
class Conference:
    at: datetime = xml("Scheduled")
    video: bool


@dataclass(frozen=True, kw_only=True)
class Coordination:
    """Further coordination with the municipality (care plan)."""

    home_changes: str | None = xml(default=None)
    aids: str | None = xml(default=None)
    rehabilitation: str | None = xml(default=None)
    home_care: str | None = xml(default=None)
    medicine_help: str | None = xml(default=None)
    other: str | None = xml(default=None)


@dataclass(frozen=True, kw_only=True)
class Diagnosis:
    code: str = xml("SKSCode")
    text: str


@dataclass(frozen=True, kw_only=True)
class FutureAgreements:
    """Discharge report field 30: treatment level, DNR, the 72-hour responsibility and its end."""

    treatment_level: str | None = xml(default=None)
    do_not_resuscitate: bool = xml(default=False)
    extended_responsibility: bool = xml(default=False)
    extended_responsibility_until: datetime | None = xml(default=None)
    text: str | None = xml(default=None)


@dataclass(frozen=True, kw_only=True)
class CarePlanAck:
    """The municipality's acknowledgement of a care plan (ACK-1, ACK-2)."""

    decision: AckDecision
    care_plan_identifier: str
    discharge_at: datetime | None = xml("AgreedDischarge", default=None)
    reason: RejectReason | None = xml("RejectReasonCode", default=None)
    reason_text: str | None = xml(default=None)


# ---- messages ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Message:
    """Any Emessage: an envelope and one body (the letter or receipt)."""

    FAMILY: ClassVar[str]
    envelope: Envelope


@dataclass(frozen=True, kw_only=True)
class ClinicalMessage(Message):
    """A letter about one patient in one episode of care."""

    letter: Letter
    sender: Party
    receiver: Party
    patient: Patient


@dataclass(frozen=True, kw_only=True)
class AdmissionAdvice(ClinicalMessage):
    """XDIS20 Indlæggelsesadvis: hospital -> municipality, automatic on admission."""

    FAMILY = "XDIS20"
    admitted_at: datetime = xml("Admitted")
    department_kind: DepartmentKind
    answer_to: str = xml("AnswerToEANIdentifier")  # where the admission report must go (ADM-1)


@dataclass(frozen=True, kw_only=True)
class AdmissionReport(ClinicalMessage):
    """XDIS16 Indlæggelsesrapport: municipality -> hospital, automatic answer to the advice."""

    FAMILY = "XDIS16"
    automatic: bool
    contacts: tuple[Contact, ...] = xml(item="Contact", default=())
    home_conditions: str | None = xml(default=None)
    services_received: str | None = xml(default=None)
    medicine: str | None = xml(default=None)
    function_levels: tuple[FunctionLevel, ...] = xml(item="FunctionLevel", default=())
    cause_of_admission: str | None = xml(default=None)
    recent_changes: str | None = xml("ChangesLastThreeDays", default=None)


@dataclass(frozen=True, kw_only=True)
class CarePlan(ClinicalMessage):
    """XDIS21 Plejeforløbsplan: hospital -> municipality (CP-1..CP-3)."""

    FAMILY = "XDIS21"
    admitted_at: datetime = xml("Admitted")
    ready_at: datetime = xml("ExpectedEndOfTreatment")
    agreed_discharge_at: datetime | None = xml("AgreedDischarge", default=None)
    agreed_discharge_comment: str | None = xml(default=None)
    cause_and_course: str = xml("CauseAndExpectedCourse")
    contagion_risk: str | None = xml("RiskOfContagion", default=None)
    diet: str | None = xml("DietFirst24Hours", default=None)
    coordination: Coordination | None = xml("FurtherCoordination", default=None)
    conference: Conference | None = xml("DischargeConference", default=None)
    special_coordination: tuple[SpecialCoordination, ...] = xml(item="ReasonCode", default=())
    revised_after_conference: bool = xml(default=False)
    function_levels: tuple[FunctionLevel, ...] = xml(item="FunctionLevel", default=())
    nursing_areas: tuple[NursingArea, ...] = xml(item="NursingArea", default=())


@dataclass(frozen=True, kw_only=True)
class CompletionNotice(ClinicalMessage):
    """XDIS19 Melding om færdigbehandling: hospital -> municipality (FM-1)."""

    FAMILY = "XDIS19"
    ready_at: datetime = xml("EndOfTreatment")
    agreed_discharge_at: datetime = xml("AgreedDischarge")
    comment: str | None = xml(default=None)


@dataclass(frozen=True, kw_only=True)
class DischargeAdvice(ClinicalMessage):
    """XDIS17 Udskrivningsadvis: hospital -> municipality, automatic on discharge (DIS-1)."""

    FAMILY = "XDIS17"
    admitted_at: datetime = xml("Admitted")
    discharged_at: datetime = xml("Discharged")
    destination: Destination
    unplanned: bool = xml(default=False)


@dataclass(frozen=True, kw_only=True)
class DischargeReport(ClinicalMessage):
    """XDIS18 Udskrivningsrapport: hospital -> municipality (DIS-2, DIS-3)."""

    FAMILY = "XDIS18"
    admitted_at: datetime = xml("Admitted")
    discharged_at: datetime = xml("Discharged")
    treatment_ended_at: datetime = xml("EndOfTreatment")
    department_kind: DepartmentKind
    destination: Destination
    unplanned: bool = xml(default=False)
    diagnoses: tuple[Diagnosis, ...] = xml(item="Diagnosis", default=())
    nursing_areas: tuple[NursingArea, ...] = xml(item="NursingArea", default=())
    function_levels: tuple[FunctionLevel, ...] = xml(item="FunctionLevel", default=())
    medicine: str | None = xml(default=None)
    clinical_information: str | None = xml(default=None)
    future_agreements: FutureAgreements = xml(default=FutureAgreements())


@dataclass(frozen=True, kw_only=True)
class Correspondence(ClinicalMessage):
    """XDIS91 Korrespondancemeddelelse, either way; also the care-plan acknowledgement (ACK-*)."""

    FAMILY = "XDIS91"
    priority: Priority = xml(default=Priority.ROUTINE)
    subject: str
    body: str
    reply_to: str | None = xml("ReplyToLetterIdentifier", default=None)
    care_plan_ack: CarePlanAck | None = xml("CarePlanAcknowledgement", default=None)


@dataclass(frozen=True, kw_only=True)
class Receipt(Message):
    """A technical receipt (kvittering) for an envelope; a receipt is never itself receipted."""

    sender: Party
    receiver: Party
    original_envelope_id: str = xml("OriginalEnvelopeIdentifier")
    original_letter_ids: tuple[str, ...] = xml("OriginalLetters", item="LetterIdentifier", default=())

    @property
    def positive(self) -> bool:
        return isinstance(self, PositiveReceipt)


@dataclass(frozen=True, kw_only=True)
class PositiveReceipt(Receipt):
    """XCTL03: the envelope was received and accepted."""

    FAMILY = "XCTL03"


@dataclass(frozen=True, kw_only=True)
class NegativeReceipt(Receipt):
    """XCTL02: the envelope was refused, with a refuse code and text."""

    FAMILY = "XCTL02"
    refuse_code: RefuseCode
    refuse_text: str

