"""Make well-formed messages of every family for one episode: hospital, municipality, patient fixed.

Used by `medcom build`, the examples, the benchmark generator and the tests, so that all of them write
messages the same way. Envelope and letter identifiers are numbered per factory (`<prefix>E0001`,
`<prefix>L0001`); all times are aware datetimes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from medcom.formats.dialect.model import (
    AckDecision,
    AcknowledgementCode,
    AdmissionAdvice,
    AdmissionReport,
    CarePlan,
    CarePlanAck,
    ClinicalMessage,
    CompletionNotice,
    Conference,
    Correspondence,
    DepartmentKind,
    Destination,
    DischargeAdvice,
    DischargeReport,
    Envelope,
    EpisodeStatus,
    FutureAgreements,
    IdentifierKind,
    Letter,
    LetterStatus,
    NegativeReceipt,
    Party,
    Patient,
    PositiveReceipt,
    RefuseCode,
    RejectReason,
    SpecialCoordination,
)
from medcom.identifiers import make_gln

DEFAULT_HOSPITAL = Party(
    ean=make_gln("579000018273"), identifier="8001099", identifier_kind=IdentifierKind.HOSPITAL_DEPARTMENT,
    organisation="Aalborg Universitetshospital", department="Ortopædkirurgisk afdeling", unit="Sengeafsnit O2",
    phone="97660000",
)
DEFAULT_MUNICIPALITY = Party(
    ean=make_gln("579000016150"), identifier="851", identifier_kind=IdentifierKind.MUNICIPALITY,
    organisation="Aalborg Kommune", department="Visitationen", phone="99312000",
)


def episode_of_care_id(episode: str) -> str:
    """A stable 32-hex episode-of-care identifier for an episode name."""
    return hashlib.md5(episode.encode("utf-8"), usedforsecurity=False).hexdigest()


def municipality_party(code: int, name: str | None = None) -> Party:
    """A municipality's visitation as a receiver, with a GLN derived from its code."""
    return Party(ean=make_gln(f"5790000{code:04d}9"[:12]), identifier=str(code),
                 identifier_kind=IdentifierKind.MUNICIPALITY, organisation=name or f"Kommune {code}")


@dataclass
class MessageFactory:
    """Builds the messages of one episode, numbering envelopes and letters."""

    patient: Patient
    episode: str
    hospital: Party = DEFAULT_HOSPITAL
    municipality: Party = DEFAULT_MUNICIPALITY
    id_prefix: str = "M"
    receipt: AcknowledgementCode = AcknowledgementCode.POSITIVE_RECEIPT
    _count: int = field(default=0, repr=False)

    def next_ids(self) -> tuple[str, str]:
        self._count += 1
        return f"{self.id_prefix}E{self._count:04d}", f"{self.id_prefix}L{self._count:04d}"

    def _header(self, sent: datetime, *, from_municipality: bool = False, letter_id: str | None = None,
                status: LetterStatus = LetterStatus.NEW, changes: str | None = None,
                patient_status: EpisodeStatus | None = None) -> dict[str, object]:
        envelope_id, default_letter_id = self.next_ids()
        sender, receiver = ((self.municipality, self.hospital) if from_municipality
                            else (self.hospital, self.municipality))
        return {
            "envelope": Envelope(sent=sent, identifier=envelope_id, acknowledgement=self.receipt),
            "letter": Letter(identifier=letter_id or default_letter_id, status=status, changes_letter=changes,
                             episode_of_care_id=episode_of_care_id(self.episode), authorised=sent),
            "sender": sender, "receiver": receiver,
            "patient": Patient(cpr=self.patient.cpr, surname=self.patient.surname,
                               given_name=self.patient.given_name, status=patient_status),
        }

    def admission_advice(self, sent: datetime, admitted_at: datetime, *, somatic: bool = True,
                         **header: object) -> AdmissionAdvice:
        return AdmissionAdvice(**self._header(sent, patient_status=EpisodeStatus.ADMITTED, **header),
                               admitted_at=admitted_at,
                               department_kind=DepartmentKind.SOMATIC if somatic else DepartmentKind.PSYCHIATRIC,
                               answer_to=self.municipality.ean)

    def admission_report(self, sent: datetime, *, automatic: bool = True, **header: object) -> AdmissionReport:
        return AdmissionReport(**self._header(sent, from_municipality=True, **header), automatic=automatic,
                               home_conditions="Bor alene i lejlighed, 2. sal med elevator.",
                               services_received="Hjemmepleje morgen og aften; madservice.",
                               cause_of_admission="Fald i hjemmet.")

    def care_plan(self, sent: datetime, admitted_at: datetime, ready_at: datetime, *,
                  special_coordination: tuple[SpecialCoordination, ...] = (),
                  agreed_discharge_at: datetime | None = None, conference_at: datetime | None = None,
                  revised_after_conference: bool = False, **header: object) -> CarePlan:
        return CarePlan(**self._header(sent, **header), admitted_at=admitted_at, ready_at=ready_at,
                        agreed_discharge_at=agreed_discharge_at,
                        cause_and_course="Indlagt efter fald; forventet færdigbehandlet efter mobilisering.",
                        special_coordination=special_coordination,
                        conference=Conference(at=conference_at, video=True) if conference_at else None,
                        revised_after_conference=revised_after_conference)

    def completion_notice(self, sent: datetime, ready_at: datetime, agreed_discharge_at: datetime,
                          **header: object) -> CompletionNotice:
        return CompletionNotice(**self._header(sent, **header), ready_at=ready_at,
                                agreed_discharge_at=agreed_discharge_at)

    def discharge_advice(self, sent: datetime, admitted_at: datetime, discharged_at: datetime,
                         destination: Destination, *, unplanned: bool = False,
                         **header: object) -> DischargeAdvice:
        return DischargeAdvice(**self._header(sent, patient_status=_status_for(destination), **header),
                               admitted_at=admitted_at, discharged_at=discharged_at, destination=destination,
                               unplanned=unplanned)

    def discharge_report(self, sent: datetime, admitted_at: datetime, discharged_at: datetime,
                         treatment_ended_at: datetime, destination: Destination, *, somatic: bool = True,
                         unplanned: bool = False, extended_until: datetime | None = None,
                         **header: object) -> DischargeReport:
        agreements = FutureAgreements(
            extended_responsibility=extended_until is not None, extended_responsibility_until=extended_until,
            text=("Udskrives med 72 timers udvidet lægefagligt behandlingsansvar." if extended_until else None))
        return DischargeReport(**self._header(sent, patient_status=_status_for(destination), **header),
                               admitted_at=admitted_at, discharged_at=discharged_at,
                               treatment_ended_at=treatment_ended_at,
                               department_kind=DepartmentKind.SOMATIC if somatic else DepartmentKind.PSYCHIATRIC,
                               destination=destination, unplanned=unplanned,
                               medicine="Se FMK.", future_agreements=agreements)

    def correspondence(self, sent: datetime, *, from_municipality: bool, subject: str,
                       body: str | None = None, reply_to: str | None = None,
                       ack: CarePlanAck | None = None, **header: object) -> Correspondence:
        return Correspondence(**self._header(sent, from_municipality=from_municipality, **header),
                              subject=subject, body=body or subject, reply_to=reply_to, care_plan_ack=ack)

    def care_plan_ack(self, sent: datetime, care_plan_id: str, *, accept: bool,
                      discharge_at: datetime | None = None, reason: RejectReason | None = None,
                      **header: object) -> Correspondence:
        ack = CarePlanAck(decision=AckDecision.ACCEPT if accept else AckDecision.REJECT,
                          care_plan_identifier=care_plan_id, discharge_at=discharge_at, reason=reason)
        subject = "Kvittering for plejeforløbsplan" if accept else "Plejeforløbsplan: udskrivning afvist"
        return self.correspondence(sent, from_municipality=True, subject=subject, reply_to=care_plan_id,
                                   ack=ack, **header)


def _status_for(destination: Destination) -> EpisodeStatus:
    return EpisodeStatus.DISCHARGED_HOME if destination in (Destination.HOME, Destination.HOME_NURSING) \
        else EpisodeStatus.DISCHARGED_OTHER


def make_receipt(*, sender: Party, receiver: Party, original_envelope_id: str,
                 original_letter_ids: tuple[str, ...], sent: datetime, envelope_id: str,
                 refuse: tuple[RefuseCode, str] | None = None) -> PositiveReceipt | NegativeReceipt:
    """A technical receipt: positive, or negative with refuse code and text. Never asks for a receipt."""
    common = {
        "envelope": Envelope(sent=sent, identifier=envelope_id,
                             acknowledgement=AcknowledgementCode.NO_POSITIVE_RECEIPT),
        "sender": sender, "receiver": receiver,
        "original_envelope_id": original_envelope_id, "original_letter_ids": original_letter_ids,
    }
    if refuse is None:
        return PositiveReceipt(**common)
    return NegativeReceipt(**common, refuse_code=refuse[0], refuse_text=refuse[1])


def receipt_for(original: ClinicalMessage, sent: datetime, envelope_id: str, *,
                refuse: tuple[RefuseCode, str] | None = None) -> PositiveReceipt | NegativeReceipt:
    """The receiver's technical receipt for a message it received."""
    return make_receipt(sender=original.receiver, receiver=original.sender,
                        original_envelope_id=original.envelope.identifier,
                        original_letter_ids=(original.letter.identifier,), sent=sent, envelope_id=envelope_id,
                        refuse=refuse)
