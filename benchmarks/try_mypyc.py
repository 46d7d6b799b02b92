"""Would compiling the simulation's typed modules with mypyc pay? A trial in a copy of the tree, never in it.

    python benchmarks/try_mypyc.py [--simulator] [--days 30] [--pairs 4] [--keep DIR]

Copies the committed tree (`git archive HEAD`) to a temporary folder, makes there the few edits mypyc needs
(below), compiles the engine, its rules, `medcom.events` and `medcom.calendar` with mypyc (`--simulator`: the
simulation's own modules too) in place, checks the compiled modules are the ones imported, then times a
`--days` replication (CPU seconds of `Simulation.execute`, `bench_simulate.py`'s measure) in the copy and in
this tree in turn, `--pairs` times, and prints each pair's ratio and the median. Needs mypy (the test extras),
setuptools >= 77 in this environment (mypyc builds with it) and a C compiler.

Measured 2026-12-07 on the shared 2-core machine (load 13-22; mypy 2.4.1, gcc 12, Python 3.11.7):
- the typed core compiled (engine, rules, completion tax, events, calendar): CPU 1.00 of the interpreted code
  (farm-bench, whole process, 30-day replication, 5 pairs); this script, 3 pairs: 1.06 (1.03-1.11): no gain;
- with the simulation's modules too (simulation, hospital, municipality, tasks, clock, patients, marks: six
  more edits, in another helper's area): 0.91 (farm-bench, 5 pairs, 0.75-1.06); this script, 3 pairs: 1.03
  (0.95-1.05); a region-year replication (`bench_simulate.py`) 26.4 and 24.7 s of CPU against 27.2 and 29.1 s
  interpreted (pairs 0.97, 0.85; 1,161,035 SimPy events both). Peak memory of a 30-day process 112 MiB against
  86 MiB. The build: 30-50 s of CPU (1.5-2.8 min wall at that load), a 1.7-2.5 MB extension.
Why so little: the time is in what mypyc cannot compile: SimPy's heap (heappop of (time, priority, id, event)
tuples), datetime arithmetic and time zones, dict look-ups, object allocation, SimPy's own interpreted
`Environment.schedule` and generators resumed through SimPy events. Not adopted (issue 23 asks >= 1.3x).

What mypyc refused or changed (the edits below; the rest was found by the tests against the compiled copy):
- a rule's `kinds = frozenset(...)` is refused against `Rule.kinds: frozenset[str] | None` (mypyc treats a
  class attribute as invariant): each needs the base's annotation repeated;
- `Violation(Problem)`: a compiled dataclass on the interpreted, slot-less `findings.Problem` fails at import
  ("attribute '__dict__' of 'type' objects is not writable"); compiling `findings.py` too breaks `Finding`'s
  dataclass fields instead. The trial drops the base (then `isinstance(v, Problem)` is False: a test fails);
- `medcom.policy` compiled reads its dataclasses' type hints as bare classes (`tuple`, not `tuple[date, ...]`):
  "unsupported policy type <class 'tuple'>"; it stays interpreted;
- `simulator/`: not clean under --strict (ints holding floats: the totals Counter, `last` in `Hospital.stay`),
  "incompatible value representations" for a float variable given an int, and SimPy's annotations say
  `Event.callbacks` is a list where it is None once processed: compiled `Task._resume` raised "list object
  expected; got None" at run time until read through `Any`;
- the tests: interpreted subclasses of compiled classes are refused (the tests' rules subclass `Rule`, the
  stay oracle subclasses `Simulation`: would need `mypy_extensions.mypyc_attr(allow_interpreted_subclasses=True)`,
  a run-time dependency); a rule class's `id` read on the class gives a descriptor, not the id (the catalogue);
  `inspect.getsource` fails on compiled functions (the catalogue tests); 40 of the engine, simulation, rule and
  catalogue tests failed against the compiled copy for these reasons;
- a silent change of output: compiled, `simulator/marks.py` reads `doc.get(table)` of tomlkit's document (a dict
  subclass) with dict's own fast path, which bypasses tomlkit's `get` and returns the plain value, not the
  `Table`: every key reads as unmarked and `simulate --format json` lost `key_marks` (and its uncertainty text
  changed), with no error; the emitted log (44,622 files) stayed byte-identical. Found only by comparing outputs;
- in-place builds put `.so` files beside the `.py` files, and Python imports an extension module before a
  source of the same name: an edited `.py` is silently ignored until rebuilt (a trap for an editable install).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ["medcom/engine", "medcom/events/__init__.py", "medcom/calendar.py"]
SIMULATOR = ["simulator/simulation.py", "simulator/hospital.py", "simulator/municipality.py", "simulator/tasks.py",
             "simulator/clock.py", "simulator/patients.py", "simulator/marks.py"]

# (file, pattern, replacement, count expected): what mypyc needs, each a literal edit of the copy.
CORE_EDITS = [
    ("medcom/engine/rules/*.py", r"^    kinds = ", "    kinds: frozenset[str] | None = ", None),
    ("medcom/engine/engine.py", r"^class Violation\(Problem\):", "class Violation:", 1),
]
SIMULATOR_EDITS = [
    ("simulator/hospital.py", r"last = discharge_at  #", "last: float = float(discharge_at)  #", 1),
    ("simulator/simulation.py", r"self\._totals: Counter\[str\] = Counter\(\)", "self._totals: Any = Counter()", 1),
    ("simulator/simulation.py", r"^from dataclasses import dataclass, field$",
     "from dataclasses import dataclass, field\nfrom typing import Any", 1),
    ("simulator/patients.py", r"return w / w\.sum\(\)$", "return w / w.sum()  # type: ignore[no-any-return]", 1),
    ("simulator/tasks.py", r"if event\.callbacks is not None:\n(\s+)event\.callbacks\.append",
     r"if cast(Any, event).callbacks is not None:\n\1cast(Any, event).callbacks.append", 1),
    ("simulator/tasks.py", r"^from heapq import heappush$",
     "from heapq import heappush\nfrom typing import Any, cast", 1),
]

TIMED = """
import sys, time
from dataclasses import replace
from pathlib import Path
import medcom.engine.engine
from simulator.scenario import load_scenario
from simulator.simulation import Simulation
scenario = load_scenario(Path("scenarios/nordjylland-2024.toml"))
scenario = replace(scenario, run=replace(scenario.run, horizon_days=int(sys.argv[1])))
started = time.process_time()
metrics = Simulation(scenario.run, scenario.base, 0).execute()
print(time.process_time() - started, metrics.engine_events, medcom.engine.engine.__file__.endswith(".so"))
"""


def edit(copy: Path, edits: list[tuple[str, str, str, int | None]]) -> None:
    for pattern_files, pattern, replacement, expected in edits:
        made = 0
        for path in sorted(copy.glob(pattern_files)):
            text, n = re.subn(pattern, replacement, path.read_text(), flags=re.M)
            path.write_text(text)
            made += n
        if made == 0 or (expected is not None and made != expected):
            sys.exit(f"try_mypyc: {pattern_files}: {pattern!r} matched {made} times, not {expected or 'some'}: the "
                     "source changed since this trial was written; update the edit")


def timed(where: Path, days: int, compiled: bool) -> float:
    env = dict(os.environ, PYTHONPATH=str(where))  # ahead of the editable install's finder
    out = subprocess.run([sys.executable, "-c", TIMED, str(days)], cwd=where, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    if (out[2] == "True") != compiled:
        sys.exit(f"try_mypyc: the engine imported in {where} is {'not ' if compiled else ''}compiled")
    return float(out[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", action="store_true", help="compile the simulation's modules too")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="build in this (empty or new) folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        copy = args.keep or Path(temporary)
        copy.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(copy)], input=archive, check=True)
        edit(copy, CORE_EDITS + (SIMULATOR_EDITS if args.simulator else []))
        modules = CORE + (SIMULATOR if args.simulator else [])
        print(f"compiling {' '.join(modules)} (minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "mypyc", *modules], cwd=copy, check=True, stdout=subprocess.DEVNULL)
        ratios = []
        for pair in range(args.pairs):
            ours, theirs = timed(copy, args.days, True), timed(ROOT, args.days, False)
            ratios.append(ours / theirs)
            print(f"pair {pair + 1}: compiled {ours:.2f} s, interpreted {theirs:.2f} s of CPU, ratio {ratios[-1]:.3f}",
                  flush=True)
        print(f"median ratio compiled/interpreted: {statistics.median(ratios):.3f} (a gain of 1.3x is 0.77)")


if __name__ == "__main__":
    main()
