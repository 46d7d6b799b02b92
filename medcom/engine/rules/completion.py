"""CONF-1, FM-1: the discharge conference and the completion notice (§4B.6-4B.7, annex 3-4)."""

from __future__ import annotations

from datetime import datetime

from medcom.calendar import end_of_day, local_date
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import ready_event
from medcom.events import Event


class ConferenceHeld(Rule):
    """CONF-1: a discharge conference is held, typically, by the end of the next weekday after the care plan.

    Read: the conference counts as held when the hospital is ready to hold it (`conference_ready`); checked
    for episodes that have one.
    """

    id = "CONF-1"

    def on_close(self, ctx: Context) -> None:
        ready, plan = ctx.episode.first("conference_ready"), ctx.episode.first("care_plan_sent")
        if ready is None or plan is None:
            return
        due = ctx.calendar.end_of_next_weekday(plan.at)
        if ready.at > due:
            ctx.violation(self.id, "info", "discharge conference later than the end of the next weekday after "
                          "the care plan", due=due, actual=ready.at, events=[plan])


class CompletionNotice(Rule):
    """FM-1: when the agreed discharge date is later than the ready date, a completion notice by the end of
    the ready day. Read: the ready day is that of the episode's last ready time (a revision supersedes the
    deadline of the earlier one); the agreed discharge is the latest acceptance's time known at the end of the
    ready day."""

    id = "FM-1"
    kinds = frozenset({"ready_for_discharge"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event is not ready_event(ctx):
            return  # an earlier ready time learnt late revises nothing
        due = end_of_day(local_date(event.at))

        def check() -> None:
            agreed: list[datetime] = [
                at for e in ctx.episode.of("care_plan_ack_sent")
                if e.data.get("decision") == "accept" and (at := e.data.get("discharge_at")) and e.at <= due]
            agreed += [at for e in ctx.episode.of("completion_notice_sent")
                       if (at := e.data.get("agreed_discharge_at")) and e.at <= due]
            if not agreed or local_date(agreed[-1]) <= local_date(event.at):
                return
            agreed_day = local_date(agreed[-1])
            ctx.expect(self.id, "warning", due,
                       lambda: f"agreed discharge {agreed_day} is after the ready day {local_date(event.at)}: "
                               "completion notice due by the end of the ready day", kinds=("completion_notice_sent",))

        with ctx.revision(self.id):
            ctx.at(due, check)
