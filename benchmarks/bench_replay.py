"""Replay speed and memory against raw lxml parsing of the same files, measured in the same run.

    python benchmarks/bench_replay.py [--messages 200000] [--dir DIR]

Generates (or reuses) a log of whole episodes with receipts, 2 % of messages broken, then measures:
- raw lxml: read and parse every file (no schema), the floor any XML replay stands on;
- medcom replay end to end in a child process: hardened parse, schema and M-rules, decoding, events, the SimPy
  engine with every rule, the report; messages/s and the child's peak resident memory; then the same with
  --workers 2 (parse and check in two processes).
The ratio medcom/raw says how much of replay is the XML parse itself. Target: >= 10,000 messages/s end to end.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).parent))
from generate_messages import generate  # noqa: E402

CHILD = """
import json, resource, sys, time
from pathlib import Path
from medcom.policy import load_policy
from medcom.formats.messages import ReadOptions
from medcom.replay import load_log, replay
from medcom.reports.replay import report_dict, to_json
started = time.perf_counter()
policy = load_policy()
inputs = load_log([Path(sys.argv[1])], ReadOptions(policy.messages.max_message_bytes, sent_before_event=False),
                  int(sys.argv[2]))
loaded = time.perf_counter()
report = report_dict(replay(inputs, policy))
to_json(report)
done = time.perf_counter()
print(json.dumps({"load": loaded - started, "engine": done - loaded, "inputs": report["inputs"],
                  "episodes": len(report["episodes"]),
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def raw_lxml(files: list[Path]) -> int:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    latin1 = etree.XMLParser(resolve_entities=False, no_network=True, encoding="iso-8859-1")
    parsed = 0
    for path in files:
        data = path.read_bytes()
        try:
            etree.fromstring(data, parser if data.startswith(b"<?xml") else latin1)
            parsed += 1
        except etree.XMLSyntaxError:
            pass
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, help="reuse or create the generated log here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp)
        if not any(directory.glob("*.xml")):
            started = time.perf_counter()
            generate(directory, args.messages, invalid_share=0.02)
            print(f"generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        files = sorted(directory.glob("*.xml"))
        for path in files:  # warm the page cache, so that neither side pays for the disk
            path.read_bytes()
        started = time.perf_counter()
        parsed = raw_lxml(files)
        raw_time = time.perf_counter() - started
        children = {}
        for workers in (1, 2):
            run = subprocess.run([sys.executable, "-c", CHILD, str(directory), str(workers)], capture_output=True,
                                 text=True, check=True)
            children[workers] = json.loads(run.stdout)
        child = children[1]
    n = len(files)
    ours = child["load"] + child["engine"]
    print(f"messages: {n} ({parsed} well-formed); replay inputs {child['inputs']}, {child['episodes']} episodes")
    print(f"raw lxml parse:          {n / raw_time:10.0f} msg/s")
    print(f"medcom replay:           {n / ours:10.0f} msg/s  (load+check {child['load']:.1f} s, "
          f"engine+report {child['engine']:.1f} s; target >= 10,000)")
    print(f"ratio medcom/raw:        {raw_time / ours:10.2f}")
    two = children[2]["load"] + children[2]["engine"]
    print(f"medcom replay --workers 2: {n / two:8.0f} msg/s  (load+check {children[2]['load']:.1f} s)")
    print(f"peak memory (replay):    {child['peak_kib'] / 1024:10.0f} MiB "
          f"(parent after raw parse: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
