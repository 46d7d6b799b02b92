"""Completion tax (TAX-1..TAX-5) and the 72-hour window (R72-1): the one implementation of each.

Pure functions of an episode's facts and the policy; replay and simulation both call them. Instants may
come in any zone: comparisons between different tzinfos are by instant, and durations use `elapsed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from medcom.calendar import add_elapsed, at_local, elapsed, local_date, move_into_window
from medcom.policy import Policy

ONE_DAY = timedelta(days=1)  # made once: the count steps a day at a time for every episode


@dataclass(frozen=True)
class TaxFacts:
    """What the tax count needs to know about one episode (all instants aware)."""

    ready_at: datetime
    discharged_at: datetime  # the end of the stay: the discharge, or the death where it ends in death (TAX-1)
    first_hospital_contact_at: datetime | None = None  # care plan, completion notice, correspondence, phone
    conference_ready_at: datetime | None = None  # TAX-4
    guardianship_info_at: datetime | None = None  # TAX-4
    terminal_stay_from: datetime | None = None  # TAX-3: terminal patient who wishes to stay
    leaves: tuple[tuple[datetime, datetime], ...] = ()  # TAX-3: days on leave are not counted
    care_plan_before_ready: bool = True  # TAX-5


@dataclass(frozen=True)
class TaxResult:
    start: datetime
    days: int
    dkk: int
    counted_dates: tuple[str, ...] = ()
    disputable_days: int = 0
    disputable_reason: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def effective_start(facts: TaxFacts, policy: Policy) -> tuple[datetime, list[str]]:
    """TAX-1 (a), (b) and TAX-4: the instant from which bed-days count, with the reasons it moved."""
    tax = policy.completion_tax
    start, notes = facts.ready_at, []
    if facts.first_hospital_contact_at and facts.first_hospital_contact_at > start:
        start = facts.first_hospital_contact_at
        notes.append(f"start moved to the hospital's first contact ({start.isoformat()})")
    moved = move_into_window(start, tax.contact_window_opens, tax.contact_window_closes)
    if moved != start:
        notes.append(f"start moved into the contact window to {moved.isoformat()}")
        start = moved
    for label, at in (("the hospital was ready to hold the discharge conference", facts.conference_ready_at),
                      ("the health information for the guardianship case was handed over", facts.guardianship_info_at)):
        if at and at > start:
            start = at
            notes.append(f"start moved to when {label} ({at.isoformat()})")
    return start, notes


@lru_cache(maxsize=4096)  # about ten years of days; every episode's count walks the days of its wait
def utc_midnight(day: date) -> datetime:
    """The instant (UTC) of the local midnight that begins `day`."""
    return at_local(day, time(0)).astimezone(UTC)


def count_tax(facts: TaxFacts, policy: Policy) -> TaxResult:
    """TAX-1..TAX-5: the local midnights after the effective start up to the discharge (or the death), less days
    on leave and days of a terminal patient who wishes to stay (TAX-3), priced by the tiered daily rates of each
    day's year (TAX-2); all days disputable without a care plan before the ready time (TAX-5)."""
    start, notes = effective_start(facts, policy)
    counted: list[str] = []
    dkk = 0
    day = local_date(start) + ONE_DAY
    # Every instant in UTC, like the midnights: comparing across zones costs a utcoffset per comparison.
    after, end = start.astimezone(UTC), facts.discharged_at.astimezone(UTC)
    leaves = [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in facts.leaves]
    terminal_from = facts.terminal_stay_from.astimezone(UTC) if facts.terminal_stay_from is not None else None
    year, rates = 0, None  # the rates of the year of the day counted last (looked up once a year)
    while (midnight := utc_midnight(day)) <= end:
        on_leave = bool(leaves) and any(a <= midnight < b for a, b in leaves)
        terminal = terminal_from is not None and midnight >= terminal_from
        if midnight > after and not on_leave and not terminal:
            if day.year != year or rates is None:
                year, rates = day.year, policy.completion_tax.rates_for(day.year)
            dkk += rates.first_rate if len(counted) < rates.first_days else rates.later_rate
            counted.append(day.isoformat())
        day += ONE_DAY
    disputable = 0 if facts.care_plan_before_ready else len(counted)
    reason = None if facts.care_plan_before_ready or not counted else \
        "no care plan was sent before the ready time: not administratively ready (annex 4)"
    return TaxResult(start, len(counted), dkk, tuple(counted), disputable, reason, tuple(notes))


def responsibility_reason(*, ready: bool, admitted_at: datetime | None, discharged_at: datetime, somatic: bool,
                          destination: str | None, policy: Policy) -> str | None:
    """R72-1: why the discharging department's 72-hour responsibility does not apply (None: it applies).

    It applies when the patient was ready, admitted at least `min_stay` (elapsed), somatic, and discharged
    to one of the policy's destinations; the first condition that fails is the reason.
    """
    rule = policy.extended_responsibility
    if not ready:
        return "not ready for discharge (an unplanned discharge)"
    if admitted_at is None:
        return "no admission in the log"
    if elapsed(admitted_at, discharged_at) < rule.min_stay:
        hours = rule.min_stay.total_seconds() / 3600
        return f"stay under {hours:g} h"
    if not somatic:
        return "not somatic"
    if destination not in rule.destinations:
        return f"destination not covered: {destination or 'not stated'}"
    return None


def responsibility_window(*, ready: bool, admitted_at: datetime | None, discharged_at: datetime, somatic: bool,
                          destination: str | None, extended_until: datetime | None,
                          policy: Policy) -> tuple[str | None, datetime | None]:
    """R72-1: why the discharging department does not keep the responsibility (None: it does), and until when
    (elapsed time; None where it does not apply). The reason is `responsibility_reason`'s, asked once.

    An extension by the hospital replaces the end where it ends later.
    """
    reason = responsibility_reason(ready=ready, admitted_at=admitted_at, discharged_at=discharged_at, somatic=somatic,
                                   destination=destination, policy=policy)
    if reason is not None:
        return reason, None
    end = add_elapsed(discharged_at, policy.extended_responsibility.window)
    return None, extended_until if extended_until and elapsed(end, extended_until) > timedelta(0) else end
