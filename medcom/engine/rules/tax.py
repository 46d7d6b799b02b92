"""TAX-1..TAX-5: the completion tax of an episode (annex 4; the arithmetic is in `completion_tax`)."""

from __future__ import annotations

from medcom.engine.completion_tax import TaxFacts, count_tax
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import leave_periods, ready_event, stay_end

CONTACTS = frozenset({"care_plan_sent", "completion_notice_sent", "correspondence_sent", "phone_call"})  # TAX-1 (a)


class CompletionTax(Rule):
    """TAX-1..TAX-5: completion-tax days, DKK and disputable days, computed once the episode is complete; counted
    up to the discharge, or up to the death where the stay ends in death."""

    id = "TAX-1"

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
