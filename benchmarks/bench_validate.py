"""Validation speed against the bare engine underneath, measured in the same run.

    python benchmarks/bench_validate.py [--messages 10000] [--dir DIR] [--repeat 3]

Baseline: raw lxml per file (read, parse, pick the generation's XSD by namespace, validate). medcom: the same
files through `medcom validate`'s batch runner on one process (hardened parse with the encoding fallback, the
generation's schema, identifier and time rules, reading each letter). Real formats (OIOXML of the older
generations and of 34C). Reports messages/s of CPU for both (the best of --repeat runs, each in CPU seconds, which
the load of a shared machine moves far less than wall seconds) and the ratio medcom / raw (target >= 0.5).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).parent))
from generate_messages import generate  # noqa: E402

from medcom.formats.oioxml.generations import GENERATIONS  # noqa: E402
from medcom.formats.oioxml.schemas import shipped  # noqa: E402
from medcom.validate import BatchOptions, run_batch  # noqa: E402


def raw_lxml(files: list[Path]) -> int:
    schemas = {g.namespace: shipped(g).schema for g in GENERATIONS}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    latin1 = etree.XMLParser(resolve_entities=False, no_network=True, encoding="iso-8859-1")
    valid = 0
    for path in files:
        data = path.read_bytes()
        try:
            root = etree.fromstring(data, parser if data.startswith(b"<?xml") else latin1)
        except etree.XMLSyntaxError:
            continue
        schema = schemas.get(etree.QName(root).namespace)
        valid += bool(schema is not None and schema.validate(root))
    return valid


def medcom(files: list[Path]) -> int:
    options = BatchOptions()
    return sum(r.accepted for r in run_batch(files, options, progress=False))


def best_of(fn, files: list[Path], repeat: int) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()  # CPU seconds: on a shared machine wall time follows the load
        result = fn(files)
        best = min(best, time.process_time() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, help="reuse or create the generated messages here")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp)
        if not any(directory.glob("*.xml")):
            generate(directory, args.messages)
        files = sorted(directory.glob("*.xml"))
        raw_time, raw_valid = best_of(raw_lxml, files, args.repeat)
        ours_time, ours_valid = best_of(medcom, files, args.repeat)
    n = len(files)
    print(f"messages: {n} ({raw_valid} schema-valid; {ours_valid} accepted by medcom)")
    print(f"raw lxml parse+validate: {n / raw_time:10.0f} msg/s")
    print(f"medcom validate:         {n / ours_time:10.0f} msg/s")
    print(f"ratio medcom/raw:        {raw_time / ours_time:10.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
