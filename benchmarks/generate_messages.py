"""Generate a large message log for benchmarks: whole episodes of all families, some broken on purpose.

    python benchmarks/generate_messages.py OUT_DIR --messages 10000 [--invalid-share 0.1] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree

from medcom.calendar import TZ
from medcom.formats.dialect.codec import encode
from medcom.formats.dialect.factory import MessageFactory, municipality_party, receipt_for
from medcom.formats.dialect.model import Destination, Message, Patient
from medcom.identifiers import MUNICIPALITY_CODES

BREAKAGES = ("cpr", "gln", "municipality", "missing", "truncated", "gap")


def episode_messages(rng: random.Random, n: int) -> list[Message]:
    """One episode's messages in time order, each followed by its receipt."""
    year = rng.choice([1930, 1940, 1950])
    cpr = f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{year % 100 + rng.randint(0, 9):02d}{rng.randint(0, 3)}" \
          f"{rng.randint(0, 999):03d}"
    f = MessageFactory(patient=Patient(cpr=cpr, surname="Hansen", given_name="Karen"), episode=f"B{n}",
                       municipality=municipality_party(rng.choice(sorted(MUNICIPALITY_CODES))), id_prefix=f"B{n}")
    admitted = datetime(2025, 1, 1, tzinfo=TZ) + timedelta(minutes=rng.randint(0, 360 * 24 * 60))
    ready = admitted + timedelta(hours=rng.randint(30, 200))
    out = ready + timedelta(hours=rng.randint(0, 72))
    plan = f.care_plan(admitted + timedelta(hours=20), admitted, ready)
    messages: list[Message] = [
        f.admission_advice(admitted + timedelta(minutes=1), admitted),
        f.admission_report(admitted + timedelta(minutes=25)),
        plan,
        f.care_plan_ack(admitted + timedelta(hours=22), plan.letter.identifier, accept=True, discharge_at=out),
        f.completion_notice(ready + timedelta(minutes=5), ready, out),
        f.discharge_advice(out + timedelta(minutes=3), admitted, out, Destination.HOME_NURSING),
        f.discharge_report(out + timedelta(minutes=20), admitted, out, ready, Destination.HOME_NURSING),
    ]
    with_receipts: list[Message] = []
    for i, m in enumerate(messages):
        with_receipts += [m, receipt_for(m, m.envelope.sent + timedelta(minutes=1), f"B{n}R{i}")]
    return with_receipts


def broken(root: etree._Element, how: str, rng: random.Random) -> bytes:
    ns = {"m": etree.QName(root).namespace}
    if how == "cpr" and root.xpath("//m:CivilRegistrationNumber", namespaces=ns):
        root.xpath("//m:CivilRegistrationNumber", namespaces=ns)[0].text = "3102471234"
    elif how == "gln":
        el = root.xpath("//m:Sender/m:EANIdentifier", namespaces=ns)[0]
        el.text = el.text[:12] + str((int(el.text[12]) + 1) % 10)
    elif how == "municipality":
        root.xpath("//m:Identifier[following-sibling::m:IdentifierCode[1]='kommunenummer']", namespaces=ns)[0].text \
            = "999"
    elif how == "gap":
        root.xpath("//m:Envelope/m:Sent/m:Date", namespaces=ns)[0].text = "2025-03-30"
        root.xpath("//m:Envelope/m:Sent/m:Time", namespaces=ns)[0].text = "02:30:00"
    elif how == "missing":
        el = root.xpath("//m:Sender/m:OrganisationName", namespaces=ns)[0]
        el.getparent().remove(el)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data[: rng.randint(50, len(data) - 10)] if how == "truncated" else data


def generate(out: Path, messages: int, invalid_share: float = 0.1, seed: int = 1) -> int:
    """Write at least `messages` files into `out`; returns how many."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    written, episode = 0, 0
    while written < messages:
        episode += 1
        for m in episode_messages(rng, episode):
            root = encode(m)
            if rng.random() < invalid_share:
                data = broken(root, rng.choice(BREAKAGES), rng)
            else:
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
            (out / f"{written:07d}.xml").write_bytes(data)
            written += 1
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--invalid-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"wrote {generate(args.out, args.messages, args.invalid_share, args.seed)} messages to {args.out}")
