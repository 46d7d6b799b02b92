"""Flows: one episode of the discharge agreement as a script, TOML, one a file (medcom/counterpart/flows/).

A flow lists the steps of both parties in order. `--play hospital` sends the hospital's steps and expects the
municipality's from the system under test (SUT); `--play municipality` the other way round. A step happens at a
time after the start (`at`, elapsed), or as an answer: a `delay` after the step it answers (`after`), counted from
when that step's message was sent (its stated time), as a real partner answers what it receives. Values that are
times (`discharge_at` ...) are written `+27h` (after the start) or as local ISO times; a value `@step` is the id of
that step's message (the real id, whoever sent it). `receipt = false` on a message step: its receiver withholds
the technical receipt; `resend = "step"`: the same message again in a new envelope, if no receipt came. Facts
(admitted, ready_for_discharge, discharged ...) are the hospital's, recorded when medcom plays the hospital; phone
calls are recorded by either side (both take part).
Durations use the policy's syntax ('30m', '27h', '1h30m').
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from medcom.calendar import add_elapsed, parse_instant
from medcom.events import EVENT_KINDS, FACT_EVENTS, HOSPITAL_MESSAGES, MUNICIPALITY_MESSAGES, TIME_KEYS
from medcom.policy import PolicyError, parse_duration

PARTIES = ("hospital", "municipality")
MAX_FLOW_BYTES = 200_000
MAX_STEPS = 200
_STEP_KEYS = {"name", "at", "after", "delay", "event", "receipt", "resend"}
_SLUG = re.compile(r"[^A-Za-z0-9]+")


class FlowError(ValueError):
    """A flow that cannot be run: names the file, the step and why."""


@dataclass(frozen=True)
class Step:
    name: str
    event: str
    party: str  # hospital | municipality
    at: timedelta | None  # after the start; None for an answer
    after: str | None  # the step this one answers
    delay: timedelta  # after the answered step's message
    data: dict[str, Any] = field(default_factory=dict)  # the event's keys; times and @references resolved late
    receipt: bool = True  # false: the receiving party withholds the technical receipt for this message
    resend: str | None = None  # this step sends again, in a new envelope, the message of the step it names

    @property
    def is_fact(self) -> bool:
        return self.event in FACT_EVENTS

    @property
    def message_id(self) -> str:
        """The id the flow gives this step's message (a valid OIOXML letter id: 14 characters at most)."""
        return str(self.data.get("id") or _SLUG.sub("", self.name.title())[:14] or "Msg")


@dataclass(frozen=True)
class Flow:
    name: str
    description: str
    start: datetime  # the default --start (aware, Europe/Copenhagen)
    duration: timedelta  # how long a run lasts on the flow's clock
    episode: dict[str, Any]  # name, cpr, municipality, hospital, department
    steps: tuple[Step, ...]

    @property
    def episode_name(self) -> str:
        return str(self.episode.get("name") or "E1")

    def played(self, party: str) -> list[Step]:
        return [s for s in self.steps if s.party == party or s.event == "phone_call"]

    def expected(self, party: str) -> list[Step]:
        """The steps the SUT owes when medcom plays `party`: its messages (facts are not sent)."""
        return [s for s in self.steps if s.party != party and not s.is_fact]


def shipped() -> dict[str, str]:
    """The shipped flows: name -> first line of the description."""
    out = {}
    for entry in sorted(resources.files("medcom.counterpart").joinpath("flows").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            flow = parse(entry.read_text(encoding="utf-8"), entry.name)
            out[flow.name] = flow.description.splitlines()[0] if flow.description else ""
    return out


def load(name_or_path: str) -> Flow:
    """A shipped flow by name, or a flow file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        try:
            raw = path.read_bytes()[:MAX_FLOW_BYTES + 1]
        except OSError as exc:
            raise FlowError(f"{path}: {exc.strerror or exc}") from None
        if len(raw) > MAX_FLOW_BYTES:
            raise FlowError(f"{path}: a flow is at most {MAX_FLOW_BYTES} bytes")
        try:
            return parse(raw.decode("utf-8"), str(path))
        except UnicodeDecodeError:
            raise FlowError(f"{path}: not UTF-8") from None
    entry = resources.files("medcom.counterpart").joinpath("flows", f"{name_or_path}.toml")
    if not re.fullmatch(r"[a-z0-9-]{1,80}", name_or_path) or not entry.is_file():
        raise FlowError(f"no flow {name_or_path!r}; shipped flows: {', '.join(shipped())}")
    return parse(entry.read_text(encoding="utf-8"), entry.name)


def parse(text: str, source: str) -> Flow:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FlowError(f"{source}: {exc}") from None
    name = Path(source).name.removesuffix(".toml")
    try:
        start = _local(raw.get("start"), f"{source}: start")
        duration = parse_duration(raw.get("duration"), "duration")
    except PolicyError as exc:
        raise FlowError(f"{source}: {exc}") from None
    episode = raw.get("episode")
    if not isinstance(episode, dict) or not episode.get("cpr") or \
            not all(isinstance(v, str | int) and not isinstance(v, bool) for v in episode.values()):
        raise FlowError(f"{source}: [episode] with at least cpr, municipality, hospital and department (text) is "
                        "needed")
    tables = raw.get("step")
    if not isinstance(tables, list) or not tables or len(tables) > MAX_STEPS:
        raise FlowError(f"{source}: between 1 and {MAX_STEPS} [[step]] tables are needed")
    steps: list[Step] = []
    for n, table in enumerate(tables, start=1):
        steps.append(_step(table, f"{source}: step {n}", steps))
    return Flow(name, str(raw.get("description") or "").strip(), start, duration, dict(episode), tuple(steps))


def _step(table: Any, where: str, earlier_steps: list[Step]) -> Step:
    earlier = {s.name for s in earlier_steps}
    if not isinstance(table, dict):
        raise FlowError(f"{where}: not a table")
    event = table.get("event")
    if not isinstance(event, str) or event not in EVENT_KINDS or event == "receipt_sent":
        raise FlowError(f"{where}: event {event!r} is not an event of the timeline vocabulary (receipts are "
                        "answered by themselves, not scripted)")
    name = table.get("name", event)
    if not isinstance(name, str) or not name.strip():
        raise FlowError(f"{where}: name must be text")
    if name in earlier:
        raise FlowError(f"{where}: step name {name!r} is used twice")
    where = f"{where} ({name})"
    try:
        at = parse_duration(table["at"], "at") if "at" in table else None
        delay = parse_duration(table.get("delay", "0m"), "delay")
    except PolicyError as exc:
        raise FlowError(f"{where}: {exc}") from None
    after = table.get("after")
    if after is not None and not isinstance(after, str):
        raise FlowError(f"{where}: after names a step: text")
    if (at is None) == (after is None):
        raise FlowError(f"{where}: give either `at` (after the start) or `after` (the step it answers), one of them")
    if after is not None and after not in earlier:
        raise FlowError(f"{where}: `after` names {after!r}, which is no earlier step")
    data = {k: v for k, v in table.items() if k not in _STEP_KEYS}
    for key, value in data.items():
        if isinstance(value, str) and value.startswith("@") and value[1:] not in earlier:
            raise FlowError(f"{where}: {key} = {value!r} names no earlier step")
        if key in TIME_KEYS:
            try:
                resolve_value(key, value, datetime.now().astimezone(), {})
            except (PolicyError, FlowError) as exc:
                raise FlowError(f"{where}: {exc}") from None
    receipt, resend = table.get("receipt", True), table.get("resend")
    if not isinstance(receipt, bool):
        raise FlowError(f"{where}: receipt = true or false")
    if resend is not None and not isinstance(resend, str):
        raise FlowError(f"{where}: resend names a step: text")
    for key, value in data.items():
        if not isinstance(value, str | int | float | bool):
            raise FlowError(f"{where}: {key} must be text, a number or true/false")
    if resend is not None:
        original = next((s for s in earlier_steps if s.name == resend), None)
        if original is None or original.event != event or original.is_fact:
            raise FlowError(f"{where}: resend names {resend!r}, which is no earlier message step of the same event")
        data = {**original.data, "id": original.message_id}  # the same message: its id and content
    return Step(name, event, _party(event, data, where), at, after, delay, data, receipt, resend)


def _party(event: str, data: dict[str, Any], where: str) -> str:
    if event in HOSPITAL_MESSAGES or (event in FACT_EVENTS and event != "phone_call"):
        return "hospital"
    if event in MUNICIPALITY_MESSAGES:
        return "municipality"
    party = data.get("sender", data.get("caller"))
    if party not in PARTIES:
        raise FlowError(f"{where}: {event} needs sender (or caller) = \"hospital\" or \"municipality\"")
    return str(party)


def _local(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        raise FlowError(f"{where}: a local time like \"2027-05-14T09:00\" is needed")
    try:
        return parse_instant(value)[0]
    except ValueError as exc:
        raise FlowError(f"{where}: {exc}") from None


def resolve_value(key: str, value: Any, start: datetime, ids: dict[str, str]) -> Any:
    """A step's value as the event has it: `+27h` and local ISO times for time keys, `@step` as that step's id."""
    if isinstance(value, str) and value.startswith("@"):
        return ids.get(value[1:])
    if key in TIME_KEYS:
        if not isinstance(value, str):
            raise FlowError(f"{key}: a time like \"+27h\" or \"2027-03-02T10:00\" (text) is needed")
        if value.startswith("+"):
            return add_elapsed(start, parse_duration(value[1:], key))
        return _local(value, key)
    return value
