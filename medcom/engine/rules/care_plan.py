"""CP-1..CP-3: the care plan's deadline, the phone call when it is late, one care plan per admission (§4B.1-4B.4)."""

from __future__ import annotations

from datetime import datetime

from medcom.calendar import BusinessCalendar, local_date
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import discharge_event, hm, ready_event
from medcom.events import Event
from medcom.policy import Policy


def is_original_care_plan(e: Event) -> bool:
    """A care plan that is neither a correction nor a revision after a conference (CP-3)."""
    return e.kind == "care_plan_sent" and not e.data.get("correction_of") and not e.data.get("revised_after_conference")


def original_care_plans(events: list[Event]) -> list[Event]:
    return [e for e in events if is_original_care_plan(e)]


def care_plan_due(calendar: BusinessCalendar, policy: Policy, ready_at: datetime) -> datetime:
    """CP-1's deadline: the cutoff on the last weekday before the ready day (the simulated hospital aims at it)."""
    return calendar.last_weekday_before_at(local_date(ready_at), policy.care_plan.cutoff)


class CarePlanDeadline(Rule):
    """CP-1: the first care plan at the latest at the cutoff on the last weekday before the ready day.

    Read: the ready day is the local date of the episode's ready time, the last one (a later ready time
    revises the deadline computed from an earlier one, which is withdrawn); a ready time revealed only by a
    later message is checked against the times recorded, so the outcome is the same.
    """

    id = "CP-1"
    kinds = frozenset({"ready_for_discharge"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event is not ready_event(ctx):
            return  # an earlier ready time learnt late revises nothing
        due = care_plan_due(ctx.calendar, ctx.policy, event.at)
        with ctx.revision(self.id):
            ctx.expect(self.id, "warning", due,
                       lambda: f"first care plan due {hm(due)} (last weekday before the ready day "
                               f"{local_date(event.at)})",
                       matches=is_original_care_plan, kinds=("care_plan_sent",),
                       late="came after the deadline: CP-2 applies")


def cp1_missed(ctx: Context) -> bool:
    return any(v.rule == "CP-1" for v in ctx.episode.violations)


class PhoneWhenLate(Rule):
    """CP-2: when CP-1 is missed, the hospital phones the municipality before the discharge.

    Checked where the log holds phone calls at all; otherwise reported as an open obligation.
    """

    id = "CP-2"

    def on_close(self, ctx: Context) -> None:
        if not cp1_missed(ctx):
            return
        discharged = discharge_event(ctx)
        if not ctx.log_has_phone_calls:
            ctx.obligation(self.id, "care plan was late (CP-1): a phone call from the hospital to the municipality "
                           "before the discharge is required; the log holds no phone calls to check it",
                           due=discharged.at if discharged else None)
            return
        calls = [e for e in ctx.episode.of("phone_call") if e.from_hospital
                 and (discharged is None or e.at <= discharged.at)]
        if not calls:
            ctx.violation(self.id, "warning", "care plan was late (CP-1) and the hospital did not phone the "
                          "municipality before the discharge", due=discharged.at if discharged else None)


class OneCarePlan(Rule):
    """CP-3: a second original care plan only when the first names a special-coordination reason."""

    id = "CP-3"
    kinds = frozenset({"care_plan_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if not is_original_care_plan(event):
            return
        originals = original_care_plans(ctx.episode.of("care_plan_sent"))
        if len(originals) > 1 and not originals[0].data.get("special_coordination"):
            ctx.violation(self.id, "warning", "a second care plan for the admission, but the first names no "
                          "special-coordination reason", actual=event.at, events=[originals[0], event])
