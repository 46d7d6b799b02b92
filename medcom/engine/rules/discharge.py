"""DIS-1, DIS-2, DIS-4: the discharge advice, the discharge report, an unplanned discharge (§4B.8)."""

from __future__ import annotations

from medcom.calendar import add_elapsed_utc, end_of_day, local_date
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import discharge_event, hm
from medcom.events import Event


class DischargeAdvice(Rule):
    """DIS-1: the discharge advice is sent at or after the discharge, within the policy's delay.

    An advice sent before the discharge is reported as such, whichever of the two the engine learns first
    (in time order the advice comes first, so the check runs when the discharge arrives). Read: such an
    advice is the advice that came, sent too early: it is the episode's DIS-1, not also a missing advice.
    """

    id = "DIS-1"
    kinds = frozenset({"discharge_advice_sent", "discharged"})

    def on_event(self, ctx: Context, event: Event) -> None:
        discharged = discharge_event(ctx)
        if event.kind == "discharge_advice_sent":
            if discharged is not None and event.at < discharged.at:
                self._early(ctx, event, discharged)
            return
        if event is discharged:
            for advice in ctx.episode.of("discharge_advice_sent"):
                if advice.at < event.at:
                    self._early(ctx, advice, event)
        ctx.expect(self.id, "error", add_elapsed_utc(event.at, ctx.policy.discharge.advice_within),
                   "discharge advice expected within the delay after the discharge", kinds=("discharge_advice_sent",))

    def _early(self, ctx: Context, advice: Event, discharged: Event) -> None:
        ctx.violation(self.id, "error", f"discharge advice sent {hm(advice.at)}, before the discharge",
                      due=discharged.at, actual=advice.at, events=[advice])


class DischargeReport(Rule):
    """DIS-2: the discharge report at the discharge, at the latest 60 minutes after; sent at or after the
    cutoff on a weekday or on a non-weekday, a phone call is required when the municipality must act before
    the next weekday (an obligation: the log does not say whether it must)."""

    id = "DIS-2"
    kinds = frozenset({"discharged", "discharge_report_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind == "discharged":
            ctx.expect(self.id, "warning", add_elapsed_utc(event.at, ctx.policy.discharge.report_within),
                       "discharge report expected at the discharge, within the delay", kinds=("discharge_report_sent",))
        elif not ctx.calendar.weekday_before_clock(
                event.at, ctx.policy.discharge.phone_cutoff):
            ctx.obligation(self.id, lambda: f"discharge report sent {hm(event.at)}: phone the municipality if it "
                           "must act before the next weekday")


class UnplannedDischarge(Rule):
    """DIS-4: an unplanned discharge is followed by a message or phone call to the municipality the same day."""

    id = "DIS-4"
    kinds = frozenset({"discharged"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if not event.data.get("unplanned"):
            return
        ctx.expect(self.id, "info", end_of_day(local_date(event.at)),
                   "unplanned discharge: no message or phone call to the municipality the same day",
                   matches=lambda e: e.from_hospital and e.at >= event.at and (e.is_message or e.kind == "phone_call"))
