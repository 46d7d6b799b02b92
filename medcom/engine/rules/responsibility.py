"""R72-1, R72-2, DIS-3: the discharging department's 72-hour responsibility (§5.2)."""

from __future__ import annotations

from datetime import UTC

from medcom.calendar import add_elapsed, to_local
from medcom.engine.completion_tax import responsibility_window
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import discharge_event, hm, ready_event

INQUIRIES = frozenset({"phone_call", "correspondence_sent"})  # how the municipality asks about a discharged patient


class ExtendedResponsibility(Rule):
    """R72-1, DIS-3, R72-2: the 72-hour window, its statement in the discharge report, and who answers
    inquiries about the patient after the discharge."""

    id = "R72-1"

    def on_close(self, ctx: Context) -> None:
        ep = ctx.episode
        discharged, admitted = discharge_event(ctx), ep.first("admitted")
        if discharged is None:
            return
        extended = ep.last("responsibility_extended")
        window = ctx.policy.extended_responsibility.window
        ep.responsibility_reason, until = responsibility_window(
            ready=ready_event(ctx) is not None, admitted_at=admitted.at if admitted else None,
            discharged_at=discharged.at, somatic=bool(admitted.data.get("somatic", True)) if admitted else True,
            destination=discharged.data.get("destination"), extended_until=extended.data.get("until") if extended
            else None, policy=ctx.policy)
        ep.responsibility_until = until
        applies = ep.responsibility_reason is None
        report = ep.first("discharge_report_sent")
        if applies and report is not None:
            stated = report.data.get("extended_responsibility_until")
            # Compared in UTC (`elapsed(stated, computed) != 0`): the local form is written only for a report.
            computed_utc = discharged.at.astimezone(UTC) + window
            if stated is None:
                ctx.violation("DIS-3", "warning", "the 72-hour responsibility applies but the discharge report does "
                              "not state it", due=add_elapsed(discharged.at, window), actual=report.at,
                              events=[report])
            elif stated.astimezone(UTC) != computed_utc:
                computed = add_elapsed(discharged.at, window)
                ctx.violation("DIS-3", "warning", f"the discharge report states the responsibility ends "
                              f"{hm(stated)}, but 72 hours (elapsed) after the discharge is {hm(computed)}",
                              due=computed, actual=stated, events=[report])
        if INQUIRIES.isdisjoint(ep.by_kind):
            return  # nobody asked about the patient (most episodes): nothing to walk
        for e in ep.events:
            if e.kind in INQUIRIES and e.at > discharged.at and e.from_municipality:
                inside = applies and until is not None and e.at <= until
                ep.inquiries.append({"at": to_local(e.at).isoformat(), "via": e.kind,
                                     "responsible": "discharging department" if inside else "general practitioner"})
