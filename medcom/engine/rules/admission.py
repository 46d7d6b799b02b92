"""ADM-1, ADM-2: the admission advice and the municipality's admission report (§4A)."""

from __future__ import annotations

from medcom.calendar import add_elapsed, add_elapsed_utc
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import hm
from medcom.events import Event


class AdmissionAdvice(Rule):
    """ADM-1: the advice is sent at or after the admission and before any other message of the episode."""

    id = "ADM-1"
    kinds = frozenset({"admission_advice_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.data.get("correction_of"):
            return  # a corrected advice (rettetbrev, RE_STIN) is not a second first message
        earlier = [e for e in ctx.episode.events if e.is_message and e is not event and e.kind != "receipt_sent"]
        if earlier:
            ctx.violation(self.id, "error", f"the admission advice is not the episode's first message: "
                          f"{earlier[0].kind} came first", due=earlier[0].at, actual=event.at, events=[event])

    def on_close(self, ctx: Context) -> None:
        admitted = ctx.episode.last("admitted")
        advice = ctx.episode.last("admission_advice_sent")  # a corrected advice states the corrected admission
        if admitted and not advice:
            ctx.violation(self.id, "error", "no admission advice for this admission")
        elif admitted and advice and advice.at < admitted.at:
            # Checked at close: an advice sent before the admission arrives before the admission event.
            ctx.violation(self.id, "error", f"admission advice sent {hm(advice.at)}, before the admission",
                          due=admitted.at, actual=advice.at, events=[advice])


class AdmissionReport(Rule):
    """ADM-2: the municipality's automatic admission report answers the advice within 60 minutes."""

    id = "ADM-2"
    kinds = frozenset({"admission_advice_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.data.get("correction_of"):
            return  # the report answers the admission's first advice, not its corrections
        ctx.expect(self.id, "info", add_elapsed_utc(event.at, ctx.policy.admission.report_within),
                   "admission report expected after the advice", kinds=("admission_report_sent",),
                   about=[event], on_missing=lambda: self._missing(ctx, event))

    def _missing(self, ctx: Context, advice: Event) -> None:
        report = ctx.episode.first("admission_report_sent")
        if report is None or report.at > advice.at + ctx.policy.admission.report_within:
            ctx.obligation(self.id, "no admission report within the expected time: if the patient will need "
                           "municipal help, the hospital must send a care plan (it creates the citizen in the "
                           "municipal system)", due=add_elapsed(advice.at, ctx.policy.admission.report_within))
