"""Rules as the tests offer them to an engine."""

from __future__ import annotations

from medcom.engine.engine import Context, Rule
from medcom.events import Event


class Offered(Rule):
    """A rule offered every event, passing on those of its declared kinds in arrival order: the definition of
    dispatch by kind, without the engine's dispatch table."""

    def __init__(self, rule: Rule) -> None:
        self.rule, self.id, self.kinds = rule, rule.id, None

    def on_event(self, ctx: Context, event: Event) -> None:
        if self.rule.kinds is None or event.kind in self.rule.kinds:
            self.rule.on_event(ctx, event)

    def on_close(self, ctx: Context) -> None:
        self.rule.on_close(ctx)
