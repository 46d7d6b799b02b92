"""M-NOTIFY: a hospital notification is sent at the event it reports (MedCom HospitalNotification: sent
automatically, in real time). Read as: within the policy's `messages.notification_within` after the admission
or the start or end of a leave; the discharge advice has the agreement's own deadline (DIS-1)."""

from __future__ import annotations

from medcom.calendar import add_elapsed, elapsed
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import hm
from medcom.events import Event

FACT_OF_NOTICE = {"STOR": "leave_started", "SLOR": "leave_ended"}


class NotificationAtTheEvent(Rule):
    id = "M-NOTIFY"
    kinds = frozenset({"admission_advice_sent", "leave_notice_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.data.get("correction_of"):
            return  # a correction is sent when the error is found, not at the event
        if event.kind == "admission_advice_sent":
            kinds: tuple[str, ...] = ("admitted",)
        else:
            named = FACT_OF_NOTICE.get(str(event.data.get("notification") or ""))
            kinds = (named,) if named else ("leave_started", "leave_ended")
        facts = [e for kind in kinds for e in ctx.episode.of(kind) if e.at <= event.at]
        if not facts:
            return
        fact = max(facts, key=lambda e: (e.at, e.seq))
        within = ctx.policy.messages.notification_within
        if elapsed(fact.at, event.at) > within:
            ctx.violation(self.id, "warning", f"{event.kind} for the {fact.kind.replace('_', ' ')} of {hm(fact.at)} "
                          f"was sent {hm(event.at)}, more than {within} after it", due=add_elapsed(fact.at, within),
                          actual=event.at, events=[event])
