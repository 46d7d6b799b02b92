"""COR-1, COR-2: correspondence between hospital and municipality (§2.2)."""

from __future__ import annotations

from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import discharge_event, hm
from medcom.events import Event


class CorrespondenceHandled(Rule):
    """COR-1: hospital correspondence sent on a weekday before the cutoff is handled the same day; otherwise
    by the end of the next weekday. Checkable where a reply refers to it: the reply must come by then."""

    id = "COR-1"
    kinds = frozenset({"correspondence_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if not event.from_municipality:
            return
        original = ctx.episode.by_id.get(event.data.get("reply_to") or "")
        if original is None or original.kind != "correspondence_sent" or not original.from_hospital:
            return
        due = ctx.calendar.handled_by(original.at, ctx.policy.correspondence.cutoff)
        if event.at > due:
            ctx.violation(self.id, "warning", f"reply to the hospital's correspondence of {hm(original.at)} "
                          f"came {hm(event.at)}, after {hm(due)}", due=due, actual=event.at,
                          events=[original, event])


class AfterDischargeCorrespondence(Rule):
    """COR-2: correspondence to the hospital after the discharge is not acted upon: the sender is told."""

    id = "COR-2"
    kinds = frozenset({"correspondence_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        discharged = discharge_event(ctx)
        if not event.from_municipality or discharged is None:
            return
        if event.at > discharged.at:
            ctx.violation(self.id, "warning", "correspondence sent to the hospital after the discharge is not acted "
                          "upon; within the 72-hour window phone the discharging department", due=discharged.at,
                          actual=event.at, events=[event])
