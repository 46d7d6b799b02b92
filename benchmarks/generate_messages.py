"""Generate a large real-format message log for benchmarks: whole episodes, receipts, some broken on purpose.

    python benchmarks/generate_messages.py OUT_DIR --messages 10000 [--invalid-share 0.1] [--seed 1]
                                           [--formats national|oioxml] [--workers 2]

Each episode is a timeline (admission, advice and report, care plan and its acknowledgement, ready time,
completion notice, discharge, advice and report, a receipt for every message) that `medcom build` turns into
real messages plus the side-car: in national practice (build's default) the advices and the acknowledgement are
FHIR (HospitalNotification, CareCommunication, Acknowledgements answering them; about 3 of 7 messages and their
receipts), the rest OIOXML (XDIS16/19 of the older generations, XDIS21/18 of 34C, XCTL03); with `--formats
oioxml` everything is OIOXML. Then a share of the messages is broken (OIOXML: CPR, GLN, municipality code, a
missing element, truncation, a DST-gap time; FHIR: CPR, GLN, a missing element, truncation, a time without its
offset). Large logs are built in chunks of episodes (in `--workers` processes); their envelope numbers are
made unique across the log and their side-cars joined into one events.jsonl.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from lxml import etree

from medcom.calendar import TZ
from medcom.events import Event
from medcom.events.build import build
from medcom.formats.xmlsafe import parse_bytes
from medcom.identifiers import MUNICIPALITY_CODES

BREAKAGES = ("cpr", "gln", "municipality", "missing", "truncated", "gap")
PER_EPISODE = 14  # 7 messages and their 7 receipts
EPISODES_PER_CHUNK = 2_000
_NUMBERED = re.compile(rb">([EKL])(\d{11})<")  # build's envelope, receipt and letter numbers, unique per build


def episode_events(rng: random.Random, n: int) -> list[Event]:
    """One episode's timeline, each message answered by a receipt a minute later."""
    name = f"B{n}"
    year = rng.choice([1930, 1940, 1950])
    cpr = f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{year % 100 + rng.randint(0, 9):02d}{rng.randint(0, 3)}" \
          f"{rng.randint(0, 999):03d}"
    # Elapsed time in UTC (T-1), so that no time lands in the spring gap; shown in Danish time below.
    admitted = datetime(2025, 1, 1, tzinfo=TZ).astimezone(UTC) + timedelta(minutes=rng.randint(0, 360 * 24 * 60))
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
    for instant, kind, data in lines:
        data = {k: v.astimezone(TZ) if isinstance(v, datetime) else v for k, v in data.items()}
        events.append(Event(instant.astimezone(TZ), name, kind, data, len(events)))
        if kind.endswith("_sent"):
            events.append(Event((instant + timedelta(minutes=1)).astimezone(TZ), name, "receipt_sent",
                                {"ref": data["id"], "positive": True}, len(events)))
    return events


def _one(root: etree._Element, name: str) -> etree._Element | None:
    hits = root.xpath(f"//*[local-name()='{name}']")
    return hits[0] if hits else None


def broken_fhir(data: bytes, how: str, rng: random.Random) -> bytes:
    """A FHIR Bundle broken: a CPR, a GLN's check digit, a required element, a time without offset."""
    bundle = json.loads(data)
    resources = [e["resource"] for e in bundle["entry"]]
    patient = next((r for r in resources if r["resourceType"] == "Patient"), None)
    organisation = next(r for r in resources if r["resourceType"] == "Organization")
    if how == "cpr" and patient is not None:
        patient["identifier"][0]["value"] = "3102471234"
    elif how in ("gln", "municipality"):
        gln = organisation["identifier"][0]
        gln["value"] = gln["value"][:12] + str((int(gln["value"][12]) + 1) % 10)
    elif how == "gap":
        bundle["timestamp"] = "2025-03-30T02:30:00"
    else:
        resources[0].pop("source", None)
    return json.dumps(bundle, indent=2, ensure_ascii=False).encode("utf-8")


def broken(data: bytes, how: str, rng: random.Random) -> bytes:
    if how == "truncated":
        return data[: rng.randint(50, len(data) - 10)]
    if data.lstrip().startswith(b"{"):
        return broken_fhir(data, how, rng)
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


def _chunk(first: int, last: int, out: Path, formats: str, invalid_share: float, seed: int) -> tuple[int, bytes]:
    """Build episodes first..last-1 into a folder of their own, numbered apart from every other chunk, with a
    share broken; returns (messages, the side-car's bytes)."""
    rng = random.Random(seed * 1_000_003 + first)
    events = [e for n in range(first, last) for e in episode_events(rng, n)]
    folder = out / f".chunk-{first}"
    result = build(events, folder, formats=formats)
    offset = first * 100  # build numbers at most ~30 envelopes, receipts and letters an episode
    for path in result.files:
        data = path.read_bytes()
        if path.suffix == ".xml":
            data = _NUMBERED.sub(lambda m: b">" + m[1] + b"%011d<" % (int(m[2]) + offset), data)
        if rng.random() < invalid_share:
            data = broken(data, rng.choice(BREAKAGES), rng)
        (out / path.name).write_bytes(data)
    sidecar = (folder / "events.jsonl").read_bytes()
    shutil.rmtree(folder)
    return result.messages, sidecar


def generate(out: Path, messages: int, invalid_share: float = 0.1, seed: int = 1, formats: str = "national",
             workers: int = 1) -> int:
    """Write at least `messages` message files (and events.jsonl) into `out`; returns how many messages."""
    out.mkdir(parents=True, exist_ok=True)
    episodes = -(-messages // PER_EPISODE)
    bounds = [(first, min(first + EPISODES_PER_CHUNK, episodes + 1))
              for first in range(1, episodes + 1, EPISODES_PER_CHUNK)]
    make = partial(_chunk, out=out, formats=formats, invalid_share=invalid_share, seed=seed)
    total = 0
    with (out / "events.jsonl").open("wb") as sidecar, ProcessPoolExecutor(max(1, workers)) as pool:
        for written, lines in pool.map(make, *zip(*bounds, strict=True)):
            total += written
            sidecar.write(lines)
    return total


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--invalid-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", choices=("national", "oioxml"), default="national")
    parser.add_argument("--workers", type=int, default=1, help="processes building chunks of episodes")
    args = parser.parse_args()
    written = generate(args.out, args.messages, args.invalid_share, args.seed, args.formats, args.workers)
    print(f"wrote {written} messages to {args.out}")
