"""TERM-1: the terminal declaration of a terminal patient (§8)."""

from __future__ import annotations

from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import discharge_event


class TerminalDeclaration(Rule):
    """TERM-1: a terminal patient discharged home, to a nursing home or a hospice has the terminal
    declaration at the discharge. Read: a declaration dated after the discharge came too late."""

    id = "TERM-1"

    def on_close(self, ctx: Context) -> None:
        discharged, terminal = discharge_event(ctx), ctx.episode.first("terminal")
        if discharged is None or terminal is None:
            return
        if discharged.data.get("destination") in ("home", "home_nursing", "nursing_home", "hospice") \
                and terminal.at > discharged.at:
            ctx.violation(self.id, "warning", "terminal declaration came after the discharge", due=discharged.at,
                          actual=terminal.at)
