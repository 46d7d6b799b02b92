"""No agreement figure in simulation code: every clock time, delay and rate the simulated hospital and
municipality use comes from the policy (RULES.md's parameters) or from the scenario (ASSUMPTION keys).

A syntax-tree scan of simulator/, more thorough than a grep for one clock time: clock times however they are
written, durations built from the unit constants or `timedelta`, comparisons of an hour or minute with a
number, and any number equal to a figure of the shipped policy in minutes, hours or seconds.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from datetime import time, timedelta
from pathlib import Path

import pytest

from medcom.policy import load_policy

SIMULATOR = Path(__file__).resolve().parents[1] / "simulator"
UNITS = {"MINUTE", "HOUR", "DAY"}  # seconds in a minute, an hour, a day
# Module constants that are not figures of the agreement or of behaviour: the units, and how long the
# simulation waits after an episode's last event before it measures it (longer than any rule's deadline).
CONSTANTS = UNITS | {"SETTLE"}
UNIT_NUMBERS = {1, 7, 24, 60, 3600, 86400}  # conversions (days a week, hours a day, ...), never a figure alone
SMALLEST = 10  # smaller numbers are too common to tell apart by value; the forms below catch them as durations
ARITHMETIC = {"int", "float", "round", "abs", "min", "max"}  # calls a duration's figure may hide in
CLOCK = re.compile(r"\b([01]?\d|2[0-3])[:.][0-5]\d\b")


def _figures() -> set[float]:
    """The shipped policy's durations (in seconds, minutes and hours), clock times (minutes after midnight)
    and rates, less the unit conversions and small numbers."""
    figures: set[float] = set()

    def walk(value: object) -> None:
        if isinstance(value, timedelta):
            seconds = value.total_seconds()
            figures.update(x for x in (seconds, seconds / 60, seconds / 3600) if x == int(x))
        elif isinstance(value, time):
            figures.add(value.hour * 60 + value.minute)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            figures.add(value)
        elif isinstance(value, dict | list | tuple):
            for v in value.values() if isinstance(value, dict) else value:
                walk(v)
        elif dataclasses.is_dataclass(value):
            for field in dataclasses.fields(value):
                if field.name not in ("raw", "risk", "max_message_bytes", "max_timeline_bytes",
                                      "max_findings_per_file", "max_resends"):  # the tool's limits, not the agreement's
                    walk(getattr(value, field.name))

    walk(load_policy())
    return {f for f in figures if f >= SMALLEST} - UNIT_NUMBERS


FIGURES = _figures()


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    return None


def _numbers(node: ast.AST) -> list[float]:
    """The numbers other than 0 and 1 written in an expression, inside arithmetic (not in other calls' arguments)."""
    if isinstance(node, ast.Call) and _name(node.func) not in ARITHMETIC:
        return []
    if (n := _number(node)) is not None:
        return [] if n in (0, 1) else [n]
    return [n for child in ast.iter_child_nodes(node) for n in _numbers(child)]


def _name(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def offences(source: str) -> list[str]:
    """What in `source` writes an agreement or behaviour figure instead of reading it."""
    tree = ast.parse(source)
    exempt: set[int] = set()
    for node in tree.body:  # the unit constants and SETTLE, and every docstring
        if isinstance(node, ast.Assign) and {_name(t) for t in node.targets for t in ast.walk(t)} & CONSTANTS:
            exempt.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            exempt.add(id(node.value))
    found = []
    for node in ast.walk(tree):
        if id(node) in exempt:
            continue
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and _name(node.func) in ("time", "timedelta") \
                and any(_numbers(a) for a in (*node.args, *(k.value for k in node.keywords))):
            found.append(f"{where}: {_name(node.func)}(...) with a written figure")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.FloorDiv | ast.Div):
            for unit, other in ((node.left, node.right), (node.right, node.left)):
                if _name(unit) in UNITS and _numbers(other):
                    found.append(f"{where}: a duration written in code ({_numbers(other)} x {_name(unit)})")
        elif isinstance(node, ast.Compare) and any(_name(side) in ("hour", "minute")
                                                   for side in (node.left, *node.comparators)):
            if _numbers(ast.Tuple([node.left, *node.comparators])):
                found.append(f"{where}: a clock time written in code (compared with .hour or .minute)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and CLOCK.search(node.value):
            found.append(f"{where}: a clock time in a string ({node.value!r})")
        elif (n := _number(node)) is not None and n in FIGURES:
            found.append(f"{where}: {n!r} is a figure of the agreement (policy)")
    return found


def test_the_simulator_writes_no_agreement_or_behaviour_figure() -> None:
    found = {str(p.relative_to(SIMULATOR.parent)): offences(p.read_text(encoding="utf-8"))
             for p in sorted(SIMULATOR.rglob("*.py"))}
    assert {path: lines for path, lines in found.items() if lines} == {}


@pytest.mark.parametrize("code", [
    "late = int(61 + u * 120) * MINUTE",  # DIS-2's 60 minutes, hidden in 61
    "at = plan_at + 5 * MINUTE",
    "opens = time(8)",
    "conference = at_local(day, time(10, 30))",
    "window = timedelta(hours=72)",
    "if 7 <= local.hour < 22:\n    pass",
    "cutoff = '14:00'",
    "within = 30",  # the receipt timeout, in minutes
    "rate = 3952",
    "tax = days * 5928.0",
    "settle = 4320 * MINUTE",
])
def test_the_scan_finds_figures_however_they_are_written(code: str) -> None:
    assert offences(code)


@pytest.mark.parametrize("code", [
    "MINUTE, HOUR, DAY = 60, 3600, 86400",
    "at = at_local(day, time(0))",  # midnight: a day boundary, not a figure
    "delay = max(MINUTE, int(-h.answer_hours * math.log(1 - u) * HOUR))",
    "minute = int(u * (HOUR // MINUTE))",
    "hours = [0] * 24",
    "def f():\n    '''Between 07:00 and 22:00 (a docstring says what the keys mean).'''",
])
def test_the_scan_leaves_units_and_structure_alone(code: str) -> None:
    assert offences(code) == []
