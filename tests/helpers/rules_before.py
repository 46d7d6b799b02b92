"""The closing rules as they were before the simulation's speed work trimmed them: the oracle of
tests/test_rule_trims.py (each trimmed rule must report exactly what this one does)."""

from __future__ import annotations

from datetime import timedelta

from medcom.calendar import add_elapsed, elapsed, to_local
from medcom.engine.completion_tax import TaxFacts, count_tax, responsibility_window
from medcom.engine.engine import Context
from medcom.engine.rules.facts import discharge_event, hm, leave_periods, ready_event
from medcom.engine.rules.responsibility import INQUIRIES, ExtendedResponsibility
from medcom.engine.rules.tax import CONTACTS, CompletionTax
from medcom.events import Event


def stay_end(ctx: Context) -> Event | None:
    ends = [e for e in (ctx.episode.first("discharged"), ctx.episode.first("deceased")) if e is not None]
    return min(ends, key=lambda e: (e.at, e.seq), default=None)


class ExtendedResponsibilityBefore(ExtendedResponsibility):
    def on_close(self, ctx: Context) -> None:
        ep = ctx.episode
        discharged, admitted = discharge_event(ctx), ep.first("admitted")
        if discharged is None:
            return
        extended = ep.last("responsibility_extended")
        ep.responsibility_reason, until = responsibility_window(
            ready=ready_event(ctx) is not None, admitted_at=admitted.at if admitted else None,
            discharged_at=discharged.at, somatic=bool(admitted.data.get("somatic", True)) if admitted else True,
            destination=discharged.data.get("destination"), policy=ctx.policy,
            extended_until=extended.data.get("until") if extended else None)
        ep.responsibility_until = until
        applies = ep.responsibility_reason is None
        report = ep.first("discharge_report_sent")
        if applies and report is not None:
            computed = add_elapsed(discharged.at, ctx.policy.extended_responsibility.window)
            stated = report.data.get("extended_responsibility_until")
            if stated is None:
                ctx.violation("DIS-3", "warning", "the 72-hour responsibility applies but the discharge report does "
                              "not state it", due=computed, actual=report.at, events=[report])
            elif elapsed(stated, computed) != timedelta(0):
                ctx.violation("DIS-3", "warning", f"the discharge report states the responsibility ends "
                              f"{hm(stated)}, but 72 hours (elapsed) after the discharge is {hm(computed)}",
                              due=computed, actual=stated, events=[report])
        if not any(kind in ep.by_kind for kind in INQUIRIES):
            return
        for e in ep.events:
            if e.kind in INQUIRIES and e.at > discharged.at and e.from_municipality:
                inside = applies and until is not None and e.at <= until
                ep.inquiries.append({"at": to_local(e.at).isoformat(), "via": e.kind,
                                     "responsible": "discharging department" if inside else "general practitioner"})


class CompletionTaxBefore(CompletionTax):
    def on_close(self, ctx: Context) -> None:
        ep = ctx.episode
        ready, discharged = ready_event(ctx), stay_end(ctx)
        if ready is None or discharged is None or discharged.at <= ready.at:
            return
        contact = next((e for e in ep.events if e.kind in CONTACTS and e.from_hospital), None)
        terminal = next((e for e in ep.of("terminal") if e.data.get("wishes_to_stay")), None)
        facts = TaxFacts(
            ready_at=ready.at, discharged_at=discharged.at,
            first_hospital_contact_at=contact.at if contact else None,
            conference_ready_at=getattr(ep.first("conference_ready"), "at", None),
            guardianship_info_at=getattr(ep.first("guardianship_info_sent"), "at", None),
            terminal_stay_from=terminal.at if terminal else None,
            leaves=leave_periods(ep.events, discharged.at) if ep.of("leave_started") else (),
            care_plan_before_ready=any(e.at < ready.at for e in ep.of("care_plan_sent")),
        )
        ep.tax = count_tax(facts, ctx.policy)
