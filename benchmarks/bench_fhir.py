"""MedCom FHIR checking and replay speed against raw JSON parsing of the same files, measured in the same run.

    python benchmarks/bench_fhir.py [--messages 2000] [--dir DIR] [--repeat 3] [--no-replay]

Generates (or reuses) a national-practice log (`generate_messages.py`, 2 % of messages broken) and keeps its MedCom
FHIR messages (HospitalNotification, CareCommunication, Acknowledgement), then measures on one core:
- raw parse: read each file and `json.loads` it, no checks: the floor any check of these files stands on;
- check: the same files through `medcom validate`'s batch runner in this process (hardened JSON reading, the
  structure walk and base model, the profiles of the IG version each message declares, the invariants), best of
  --repeat after a first run that also compiles the profiles (reported on its own as "first run"); each run
  forgets the walks and verdicts remembered by the one before (a log's messages are each seen once);
- replay: `python -m medcom replay FOLDER --format json --workers 1` in a child process of this interpreter
  (checking, events, the engine with every rule, the report; start-up included).
Run it with another checkout's interpreter (`/other/.venv/bin/python benchmarks/bench_fhir.py`) to measure that
checkout's medcom on the same files.
Times are CPU seconds (user + system) of the work, so that the figures survive a shared, busy machine; the ratio
check / raw parse is what to compare across machines. Targets (issue 23): >= 2,000 FHIR messages/s checked and
replayed, ratio >= 0.25.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_messages import generate  # noqa: E402

from medcom.formats.fhir import fhirpath as fp  # noqa: E402
from medcom.formats.fhir import walks  # noqa: E402
from medcom.validate import BatchOptions, run_batch  # noqa: E402


def raw_parse(files: list[Path]) -> int:
    """json.loads of every file; how many parsed."""
    parsed = 0
    for path in files:
        try:
            json.loads(path.read_bytes())
            parsed += 1
        except ValueError:
            pass
    return parsed


def check(files: list[Path]) -> int:
    """medcom's check of every file (validate's batch runner, one process); how many it accepts. The walks and
    verdicts remembered from an earlier run over the same files are forgotten first (the compiled profiles are
    kept): each run is a first pass over its files, as a log's messages are."""
    walks.forget()
    fp._MEMO.clear()
    return sum(r.accepted for r in run_batch(files, BatchOptions(), progress=False))


def cpu_seconds(fn: Callable[[list[Path]], int], files: list[Path]) -> tuple[float, int]:
    started = time.process_time()
    result = fn(files)
    return time.process_time() - started, result


def best_of(fn: Callable[[list[Path]], int], files: list[Path], repeat: int) -> tuple[float, int]:
    runs = [cpu_seconds(fn, files) for _ in range(max(1, repeat))]
    return min(r[0] for r in runs), runs[-1][1]


def replay_seconds(folder: Path) -> float:
    """CPU seconds of `medcom replay FOLDER --format json --workers 1` (a child process, start-up included)."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "medcom", "replay", str(folder), "--format", "json", "--out",
                   str(Path(tmp) / "report.json"), "--workers", "1"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode not in (0, 1):
            raise SystemExit(f"medcom replay failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000, help="messages in the generated log (FHIR ~43 %%)")
    parser.add_argument("--dir", type=Path, help="reuse or create the generated log here")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-replay", action="store_true", help="measure raw parse and check only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp) / "log"
        if not directory.exists() or not any(directory.iterdir()):
            generate(directory, args.messages, invalid_share=0.02, workers=1)
        fhir = Path(tmp) / "fhir"
        fhir.mkdir()
        for path in sorted(directory.glob("*.json")):
            shutil.copyfile(path, fhir / path.name)
        files = sorted(fhir.glob("*.json"))
        n = len(files)
        first, _ = cpu_seconds(check, files)
        raw_time, parsed = best_of(raw_parse, files, args.repeat)
        ours_time, accepted = best_of(check, files, args.repeat)
        replay_time = None if args.no_replay else replay_seconds(fhir)
    print(f"FHIR messages: {n} ({parsed} parsed, {accepted} accepted by medcom); CPU seconds, one core")
    print(f"raw JSON parse:         {n / raw_time:10.0f} msg/s")
    print(f"medcom check:           {n / ours_time:10.0f} msg/s  (first run, profiles compiled: {n / first:.0f} msg/s)")
    print(f"ratio check/raw:        {raw_time / ours_time:10.3f}  (target >= 0.25)")
    if replay_time is not None:
        print(f"medcom replay:          {n / replay_time:10.0f} msg/s  (a child process, start-up included; "
              f"ratio to raw {raw_time / replay_time:.3f}; target >= 2,000 msg/s)")


if __name__ == "__main__":
    main()
