"""What several rules read from an episode, read one way: the discharge, the ready time, leave periods; and
how a report shows an instant."""

from __future__ import annotations

from datetime import datetime

from medcom.calendar import to_local
from medcom.engine.engine import Context, Episode
from medcom.events import Event


def hm(at: datetime) -> str:
    """An instant as people read it in a report: weekday, local date and minute."""
    return f"{to_local(at):%a %Y-%m-%d %H:%M}"


def ready_event(ctx: Context) -> Event | None:
    """The episode's ready time (RULES.md "Ready time"): a later `ready_for_discharge` revises an earlier one,
    so it is the latest one, whatever the order the engine learnt them in. None: an unplanned discharge."""
    return latest_ready(ctx.episode)


def latest_ready(episode: Episode) -> Event | None:
    """`ready_event` for an episode outside a rule (calibration reads the ready time as the rules do); the
    episode keeps it up to date as events join (the first of equal (at, seq), as `max` would pick)."""
    return episode.ready


def discharge_event(ctx: Context) -> Event | None:
    return ctx.episode.first("discharged")


def stay_end(ctx: Context) -> Event | None:
    """The end of the stay: the discharge, or the death where the stay ends in death (RULES.md TAX-1: a death ends
    the completion-tax count); a death after the discharge ends nothing."""
    discharged, died = ctx.episode.first("discharged"), ctx.episode.first("deceased")
    if died is None or discharged is None:  # most episodes: no death (a list and a `min` fewer each)
        return discharged or died
    return died if (died.at, died.seq) < (discharged.at, discharged.seq) else discharged  # as `min` picked


def leave_periods(events: list[Event], end: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """(start, end) of each leave; one still open at the end runs to `end`."""
    periods, start = [], None
    for e in events:
        if e.kind == "leave_started":
            start = e.at
        elif e.kind == "leave_ended" and start is not None:
            periods.append((start, e.at))
            start = None
    if start is not None:
        periods.append((start, end))
    return tuple(periods)
