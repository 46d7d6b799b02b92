"""Build small timelines in tests and replay them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from medcom.calendar import add_elapsed, parse_instant
from medcom.events.timeline import parse_line
from medcom.policy import Policy, load_policy
from medcom.replay import ReplayInput, replay
from medcom.replay.load import add_lines
from medcom.reports.replay import report_dict


def _later(at: str, **delta: float) -> str:
    return add_elapsed(parse_instant(at)[0], timedelta(**delta)).isoformat()


def clean_episode(name: str = "E", *, ready: str = "2025-03-27T10:00", discharged: str = "2025-03-27T13:00",
                  plan: str = "2025-03-25T11:00", admitted: str = "2025-03-24T08:40",
                  destination: str = "home_nursing") -> list[dict]:
    """A clean episode: every message in time; change one thing to test one rule."""
    return [
        {"at": admitted, "episode": name, "event": "admitted", "cpr": "2509479989", "municipality": "851"},
        {"at": _later(admitted, minutes=1), "episode": name, "event": "admission_advice_sent", "id": f"{name}-ADV"},
        {"at": _later(admitted, minutes=30), "episode": name, "event": "admission_report_sent", "id": f"{name}-REP"},
        {"at": plan, "episode": name, "event": "care_plan_sent", "id": f"{name}-CP"},
        {"at": plan[:-5] + "13:30", "episode": name, "event": "care_plan_ack_sent", "id": f"{name}-ACK",
         "ref": f"{name}-CP", "decision": "accept", "discharge_at": discharged},
        {"at": ready, "episode": name, "event": "ready_for_discharge"},
        {"at": discharged, "episode": name, "event": "discharged", "destination": destination},
        {"at": discharged[:-2] + "05", "episode": name, "event": "discharge_advice_sent", "id": f"{name}-DA"},
        {"at": discharged[:-2] + "20", "episode": name, "event": "discharge_report_sent", "id": f"{name}-DR",
         "extended_responsibility_until": add_elapsed(parse_instant(discharged)[0], timedelta(hours=72)).isoformat()},
    ]


def without(lines: list[dict], *events: str) -> list[dict]:
    return [line for line in lines if line["event"] not in events]


def replace(lines: list[dict], event: str, **changes: object) -> list[dict]:
    return [{**line, **changes} if line["event"] == event else line for line in lines]


def replay_lines(lines: list[dict], policy: Policy | None = None) -> dict:
    inp = ReplayInput()
    add_lines((parse_line(json.dumps(line), "test.jsonl", n, n) for n, line in enumerate(lines, start=1)), inp)
    return report_dict(replay(inp, policy or load_policy()))


def episode(report: dict, name: str = "E") -> dict:
    return next(e for e in report["episodes"] if e["episode"] == name)


def rules(report: dict, name: str = "E") -> list[str]:
    return [v["rule"] for v in episode(report, name)["violations"]]


def obligations(report: dict, name: str = "E") -> list[str]:
    return [o["rule"] for o in episode(report, name)["obligations"]]


def write_timeline(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path
