"""M-RECEIPT: receipts for messages that ask for one."""

from __future__ import annotations

from medcom.calendar import add_elapsed
from medcom.engine.engine import Context, Rule
from medcom.events import MESSAGE_EVENTS, Event


class Receipts(Rule):
    """M-RECEIPT: a message that asks for a positive receipt gets a receipt within 30 minutes.

    Checked where the log holds receipts at all (a timeline says nothing about receipt requests otherwise).
    """

    id = "M-RECEIPT"
    kinds = MESSAGE_EVENTS - {"receipt_sent"}  # a receipt is never itself receipted
    needs_receipts = True

    def on_event(self, ctx: Context, event: Event) -> None:
        if not event.receipt_requested or not ctx.log_has_receipts or event.id is None:
            return
        ctx.expect(self.id, "warning", add_elapsed(event.at, ctx.policy.messages.receipt_timeout),
                   f"no receipt for {event.kind} {event.id}", matches=lambda e: e.data.get("ref") == event.id,
                   kinds=("receipt_sent",), about=[event])
