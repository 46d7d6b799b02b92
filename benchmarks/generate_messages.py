"""Generate a large real-format message log for benchmarks: whole episodes, receipts, some broken on purpose.

    python benchmarks/generate_messages.py OUT_DIR --messages 10000 [--invalid-share 0.1] [--seed 1]

Each episode is a timeline (admission, advice and report, care plan and its acknowledgement, ready time,
completion notice, discharge, advice and report, a receipt for every message) that `medcom build` turns into
real OIOXML (XDIS20/16/91/19/17 of the older generations, XDIS21/18 of 34C, XCTL03) plus the side-car; then a
share of the messages is broken (CPR, GLN, municipality code, a missing element, truncation, a DST-gap time).
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree

from medcom.calendar import TZ
from medcom.events import Event
from medcom.events.build import build
from medcom.formats.xmlsafe import parse_bytes
from medcom.identifiers import MUNICIPALITY_CODES

BREAKAGES = ("cpr", "gln", "municipality", "missing", "truncated", "gap")
PER_EPISODE = 14  # 7 messages and their 7 receipts


def episode_events(rng: random.Random, n: int) -> list[Event]:
    """One episode's timeline, each message answered by a receipt a minute later."""
    name = f"B{n}"
    year = rng.choice([1930, 1940, 1950])
    cpr = f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{year % 100 + rng.randint(0, 9):02d}{rng.randint(0, 3)}" \
          f"{rng.randint(0, 999):03d}"
    admitted = datetime(2025, 1, 1, tzinfo=TZ) + timedelta(minutes=rng.randint(0, 360 * 24 * 60))
    ready = admitted + timedelta(hours=rng.randint(30, 200))
    out = ready + timedelta(hours=rng.randint(0, 72))
    municipality = str(rng.choice(sorted(MUNICIPALITY_CODES)))
    lines: list[tuple[datetime, str, dict]] = [
        (admitted, "admitted", {"cpr": cpr, "municipality": municipality, "department": "Medicinsk afsnit"}),
        (admitted + timedelta(minutes=1), "admission_advice_sent", {"id": f"{name}A"}),
        (admitted + timedelta(minutes=25), "admission_report_sent", {"id": f"{name}R"}),
        (admitted + timedelta(hours=20), "care_plan_sent", {"id": f"{name}P"}),
        (admitted + timedelta(hours=22), "care_plan_ack_sent", {"id": f"{name}K", "ref": f"{name}P",
                                                                 "decision": "accept", "discharge_at": out}),
        (ready, "ready_for_discharge", {}),
        (ready + timedelta(minutes=5), "completion_notice_sent", {"id": f"{name}F", "agreed_discharge_at": out}),
        (out, "discharged", {"destination": "home_nursing"}),
        (out + timedelta(minutes=3), "discharge_advice_sent", {"id": f"{name}D"}),
        (out + timedelta(minutes=20), "discharge_report_sent", {"id": f"{name}U"}),
    ]
    events = []
    for at, kind, data in lines:
        events.append(Event(at, name, kind, data, len(events)))
        if kind.endswith("_sent"):
            events.append(Event(at + timedelta(minutes=1), name, "receipt_sent", {"ref": data["id"],
                                                                                   "positive": True}, len(events)))
    return events


def _one(root: etree._Element, name: str) -> etree._Element | None:
    hits = root.xpath(f"//*[local-name()='{name}']")
    return hits[0] if hits else None


def broken(data: bytes, how: str, rng: random.Random) -> bytes:
    if how == "truncated":
        return data[: rng.randint(50, len(data) - 10)]
    tree = parse_bytes(data)
    root = tree.getroot()
    if how == "cpr" and (el := _one(root, "CivilRegistrationNumber")) is not None:
        el.text = "3102471234"
    elif how == "gln" and (el := _one(root, "EANIdentifier")) is not None:
        el.text = el.text[:12] + str((int(el.text[12]) + 1) % 10)
    elif how == "municipality":
        for el in root.xpath("//*[local-name()='IdentifierCode'][.='kommunenummer']"):
            el.getprevious().text = "999"
    elif how == "gap":
        sent = _one(root, "Sent")
        sent[0].text, sent[1].text = "2025-03-30", "02:30"
    elif how == "missing" and (el := _one(root, "OrganisationName")) is not None:
        el.getparent().remove(el)
    return etree.tostring(tree, encoding=tree.docinfo.encoding or "UTF-8", xml_declaration=True)


def generate(out: Path, messages: int, invalid_share: float = 0.1, seed: int = 1) -> int:
    """Write at least `messages` message files (and events.jsonl) into `out`; returns how many messages."""
    rng = random.Random(seed)
    events = [e for n in range(1, -(-messages // PER_EPISODE) + 1) for e in episode_events(rng, n)]
    result = build(events, out)
    for path in result.files:
        if rng.random() < invalid_share:
            path.write_bytes(broken(path.read_bytes(), rng.choice(BREAKAGES), rng))
    return result.messages


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--invalid-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"wrote {generate(args.out, args.messages, args.invalid_share, args.seed)} messages to {args.out}")
