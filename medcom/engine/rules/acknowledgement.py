"""ACK-1..ACK-3: the municipality's acknowledgement of the care plan and questions about it (§4B.5)."""

from __future__ import annotations

from datetime import datetime

from medcom.calendar import end_of_day, local_date
from medcom.engine.engine import Context, Episode, Rule
from medcom.engine.rules.care_plan import original_care_plans
from medcom.engine.rules.facts import hm
from medcom.events import Event

ACKNOWLEDGEMENTS = ("care_plan_ack_sent", "correspondence_sent")


def _order(e: Event) -> tuple[datetime, int]:
    return e.at, e.seq


def _named_plan(episode: Episode, name: str) -> Event | None:
    """The care plan a message names: the plan itself, or the original a correction of it corrects."""
    plan = episode.by_id.get(name)
    if plan is None or plan.kind != "care_plan_sent":
        return None
    return episode.by_id.get(plan.data.get("correction_of") or "", plan)


def acknowledged_plan(episode: Episode, ack: Event) -> Event | None:
    """The care plan `ack` acknowledges (ACK-1), if any.

    An acknowledgement is an acknowledgement message or correspondence from the municipality (§4B.5:
    "kvitterer ... via korrespondancemeddelelse"). One that names a care plan (`ref`, `reply_to`)
    acknowledges that plan; one that names nothing acknowledges the episode's latest care plan sent before
    it that no earlier acknowledgement took; one that names something else acknowledges no plan.
    """
    if not ack.from_municipality or ack.kind not in ACKNOWLEDGEMENTS:
        return None
    named = ack.data.get("ref") or ack.data.get("reply_to")
    if named:  # what earlier acknowledgements took matters only to one that names nothing
        return _named_plan(episode, named)
    plans = sorted((p for p in episode.of("care_plan_sent") if not p.data.get("correction_of")), key=_order)
    earlier = sorted((e for kind in ACKNOWLEDGEMENTS for e in episode.of(kind)
                      if e.from_municipality and _order(e) < _order(ack)), key=_order)
    taken: set[int] = set()

    def plan_of(e: Event) -> Event | None:
        name = e.data.get("ref") or e.data.get("reply_to")
        if name:
            return _named_plan(episode, name)
        return next((p for p in reversed(plans) if _order(p) < _order(e) and id(p) not in taken), None)

    for e in earlier:
        plan = plan_of(e)
        if plan is not None:
            taken.add(id(plan))
    return plan_of(ack)


class SameDayAcknowledgement(Rule):
    """ACK-1: a care plan received on a weekday before the cutoff is acknowledged the same day.

    Received at or after the cutoff, or on a non-weekday: a phone contact with verbal acknowledgement is
    expected instead, at or after the plan was sent (an obligation where the log holds no phone calls; an
    electronic acknowledgement is still welcome). Which plan an acknowledgement acknowledges: see
    `acknowledged_plan`.
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
            ctx.expect(self.id, "warning", due, lambda: f"care plan of {hm(event.at)} not acknowledged the same day",
                       matches=lambda e: acknowledged_plan(ctx.episode, e) is event, kinds=ACKNOWLEDGEMENTS,
                       about=[event])

    def on_close(self, ctx: Context) -> None:
        # Received at or after the cutoff or on a non-weekday: the hospital supplements the care plan with a phone
        # contact in which the plan is reviewed and the municipality acknowledges it verbally (§4B.5). Read as: a
        # phone call between them at or after the plan was sent (a call before it cannot review it), before the
        # episode ends; an electronic acknowledgement is welcome but does not replace the call.
        cutoff = ctx.policy.acknowledgement.cutoff
        calls = ctx.episode.of("phone_call")
        for plan in original_care_plans(ctx.episode.of("care_plan_sent")):
            if ctx.calendar.weekday_before_clock(plan.at, cutoff) or any(c.at >= plan.at for c in calls):
                continue
            text = (f"care plan received {hm(plan.at)} (at or after {cutoff:%H:%M} or on a non-weekday): "
                    "a phone contact in which the municipality acknowledges it verbally is expected")
            if ctx.log_has_phone_calls:
                ctx.violation(self.id, "warning", text + " at or after it; none in the log", events=[plan])
            else:
                ctx.obligation(self.id, text + "; the log holds no phone calls to check it")


class AcknowledgementContent(Rule):
    """ACK-2: an acceptance carries the agreed discharge time; a rejection carries a reason.

    Where a care plan's first acknowledgement is correspondence (a real log's XDIS91 or CareCommunication), its
    decision, time and reason are free text: not guessed, an obligation to check by reading it."""

    id = "ACK-2"
    kinds = frozenset({"care_plan_ack_sent"})

    def on_close(self, ctx: Context) -> None:
        if not ctx.episode.of("correspondence_sent"):
            return  # only an acknowledgement by correspondence is free text (most episodes have none)
        acks = sorted((e for kind in ACKNOWLEDGEMENTS for e in ctx.episode.of(kind) if e.from_municipality),
                      key=_order)
        first: dict[int, Event] = {}
        for ack in acks:
            plan = acknowledged_plan(ctx.episode, ack)
            if plan is not None:
                first.setdefault(id(plan), ack)
        for ack in first.values():
            if ack.kind == "correspondence_sent":
                ctx.obligation(self.id, f"the acknowledgement of {hm(ack.at)} is free text: check that it accepts "
                               "with the agreed discharge time or rejects with a reason", due=ack.at)

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
    """ACK-3: the hospital answers the municipality's question about a care plan by the end of the next weekday.

    Read: municipal correspondence about a plan is a question once the plan has been acknowledged; before that it
    is the acknowledgement itself (a real log's reply to a care plan, ACK-1)."""

    id = "ACK-3"
    kinds = frozenset({"correspondence_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if not event.from_municipality:
            return
        about = ctx.episode.by_id.get(event.data.get("reply_to") or "")
        if about is None or about.kind != "care_plan_sent" or event.id is None:
            return
        plan = acknowledged_plan(ctx.episode, event)
        earlier = [e for kind in ACKNOWLEDGEMENTS for e in ctx.episode.of(kind)
                   if e is not event and e.from_municipality and _order(e) < _order(event)]
        if plan is not None and not any(acknowledged_plan(ctx.episode, e) is plan for e in earlier):
            return  # the plan's acknowledgement, not a question about it
        due = ctx.calendar.end_of_next_weekday(event.at)
        ctx.expect(self.id, "warning", due,
                   lambda: f"question of {hm(event.at)} about the care plan not answered by the end of the next "
                           "weekday",
                   matches=lambda e: e.from_hospital and e.data.get("reply_to") == event.id,
                   kinds=("correspondence_sent",), about=[event])
