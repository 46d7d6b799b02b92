"""The rules of RULES.md, one class each, keyed by rule id; replay and simulation run the same classes.

One module per area of the agreement. Every clock time and duration comes from the policy; every day
boundary from the business calendar. How ambiguous passages of RULES.md are read is said in the docstring
of the rule concerned.
"""

from __future__ import annotations

from medcom.engine.engine import Rule
from medcom.engine.rules.acknowledgement import AcknowledgementContent, QuestionAnswered, SameDayAcknowledgement
from medcom.engine.rules.admission import AdmissionAdvice, AdmissionReport
from medcom.engine.rules.care_plan import CarePlanDeadline, OneCarePlan, PhoneWhenLate, care_plan_due
from medcom.engine.rules.completion import CompletionNotice, ConferenceHeld
from medcom.engine.rules.correspondence import AfterDischargeCorrespondence, CorrespondenceHandled
from medcom.engine.rules.discharge import DischargeAdvice, DischargeReport, UnplannedDischarge
from medcom.engine.rules.facts import hm
from medcom.engine.rules.leave import Leave
from medcom.engine.rules.notifications import NotificationAtTheEvent
from medcom.engine.rules.receipts import Receipts
from medcom.engine.rules.responsibility import ExtendedResponsibility
from medcom.engine.rules.tax import CompletionTax
from medcom.engine.rules.terminal import TerminalDeclaration

__all__ = ["ALL_RULES", "all_rules", "care_plan_due", "hm"]

ALL_RULES: tuple[type[Rule], ...] = (
    AdmissionAdvice, AdmissionReport, CarePlanDeadline, PhoneWhenLate, OneCarePlan, SameDayAcknowledgement,
    AcknowledgementContent, QuestionAnswered, CorrespondenceHandled, AfterDischargeCorrespondence,
    ConferenceHeld, CompletionNotice, CompletionTax, DischargeAdvice, DischargeReport, ExtendedResponsibility,
    UnplannedDischarge, Leave, TerminalDeclaration, Receipts, NotificationAtTheEvent,
)


def all_rules() -> list[Rule]:
    """A fresh instance of every rule, in catalogue order."""
    return [cls() for cls in ALL_RULES]
