"""ACK-1..ACK-3: the municipality's acknowledgement of the care plan and questions about it (§4B.5)."""

from __future__ import annotations

from datetime import time

from medcom.calendar import at_local, end_of_day, local_date
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.care_plan import original_care_plans
from medcom.engine.rules.facts import hm, refers_to
from medcom.events import Event


class SameDayAcknowledgement(Rule):
    """ACK-1: a care plan received on a weekday before the cutoff is acknowledged the same day.

    Received at or after the cutoff, or on a non-weekday: a phone contact with verbal acknowledgement is
    expected instead (an obligation; an electronic acknowledgement is still welcome).
    """

    id = "ACK-1"
    kinds = frozenset({"care_plan_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.data.get("correction_of"):
            return
        cutoff = ctx.policy.acknowledgement.cutoff
        if ctx.calendar.weekday_before_clock(event.at, cutoff):
            ctx.episode.acks_due_same_day += 1
            due = end_of_day(local_date(event.at))
            ctx.expect(self.id, "warning", due, f"care plan of {hm(event.at)} not acknowledged the same day",
                       matches=lambda e: e.from_municipality and refers_to(e, event),
                       kinds=("care_plan_ack_sent", "correspondence_sent"), about=[event])

    def on_close(self, ctx: Context) -> None:
        # Received at or after the cutoff or on a non-weekday: the hospital supplements the care plan with a phone
        # contact in which the municipality acknowledges it verbally (§4B.5). Read as: a phone call between them
        # on or after the plan's local day, before the episode ends; an electronic acknowledgement is welcome
        # but does not replace the call.
        cutoff = ctx.policy.acknowledgement.cutoff
        for plan in original_care_plans(ctx.episode.of("care_plan_sent")):
            if ctx.calendar.weekday_before_clock(plan.at, cutoff):
                continue
            day_start = at_local(local_date(plan.at), time(0))
            if any(e.kind == "phone_call" and e.at >= day_start for e in ctx.episode.events):
                continue
            text = (f"care plan received {hm(plan.at)} (at or after {cutoff:%H:%M} or on a non-weekday): "
                    "a phone contact in which the municipality acknowledges it verbally is expected")
            if ctx.log_has_phone_calls:
                ctx.violation(self.id, "warning", text + "; none in the log", events=[plan])
            else:
                ctx.obligation(self.id, text + "; the log holds no phone calls to check it")


class AcknowledgementContent(Rule):
    """ACK-2: an acceptance carries the agreed discharge time; a rejection carries a reason."""

    id = "ACK-2"
    kinds = frozenset({"care_plan_ack_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        decision = event.data.get("decision")
        if decision == "accept" and not event.data.get("discharge_at"):
            ctx.violation(self.id, "error", "acceptance without the agreed discharge time", actual=event.at,
                          events=[event])
        elif decision == "reject" and not event.data.get("reason"):
            ctx.violation(self.id, "error", "rejection without a reason", actual=event.at, events=[event])
        elif decision not in ("accept", "reject"):
            ctx.violation(self.id, "error", f"acknowledgement decision {decision!r} is neither accept nor reject",
                          actual=event.at, events=[event])


class QuestionAnswered(Rule):
    """ACK-3: the hospital answers the municipality's question about a care plan by the end of the next weekday."""

    id = "ACK-3"
    kinds = frozenset({"correspondence_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if not event.from_municipality:
            return
        about = ctx.episode.by_id.get(event.data.get("reply_to") or "")
        if about is None or about.kind != "care_plan_sent" or event.id is None:
            return
        due = ctx.calendar.end_of_next_weekday(event.at)
        ctx.expect(self.id, "warning", due,
                   f"question of {hm(event.at)} about the care plan not answered by the end of the next weekday",
                   matches=lambda e: e.from_hospital and e.data.get("reply_to") == event.id,
                   kinds=("correspondence_sent",), about=[event])
