"""Replay speed and memory as a user meets them, against raw parsing of the same files, in the same run.

    python benchmarks/bench_replay.py [--messages 200000] [--dir DIR] [--formats national|oioxml]
                                      [--workers 1 2] [--partition-size N] [--executor local|dask]
                                      [--outputs json html calibrate]

Generates (or reuses) a log of whole episodes with receipts in national practice (OIOXML and MedCom FHIR; with
`--formats oioxml` OIOXML only; 2 % of messages broken), then measures:
- raw parse: read every file and parse it (lxml for XML, json for FHIR JSON; no schema), the floor any replay
  of these files stands on;
- `medcom replay LOG --format json --out FILE` end to end, in a child process, with each --workers: hardened
  parse, schema/profile and M-rules, decoding, events, the partitions, the SimPy engine with every rule, the
  report; messages/s, and the peak resident memory of the whole process tree (the command and its workers,
  sampled every 0.1 s with psutil) and of the command alone (the parent: what grows with the log, if anything);
- CPU seconds beside wall seconds (the command and its workers; raw parsing's own): on a shared machine the ratio
  of CPU seconds holds where the wall-clock one follows the load;
- with --outputs, the same for `--format html` and for `medcom calibrate LOG` (both replay in partitions like
  json: their peak memory should be about json's, and not grow with the log).
Targets (issue 23): OIOXML only >= 5,000 messages/s on one worker, a ratio to raw parsing >= 0.25; national
practice >= 3,000 messages/s with 2 workers; peak memory that does not grow with the log (run it on two sizes and
compare; 2,000,000 messages under 1 GiB).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from lxml import etree

from medcom import __file__ as MEDCOM_INIT

sys.path.insert(0, str(Path(__file__).parent))
from generate_messages import generate  # noqa: E402


def raw_parse(files: list[Path]) -> int:
    """Parse every file as lxml (XML) or json (FHIR JSON) would, with no checks; how many parsed."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    latin1 = etree.XMLParser(resolve_entities=False, no_network=True, encoding="iso-8859-1")
    parsed = 0
    for path in files:
        data = path.read_bytes()
        try:
            if path.suffix == ".json":
                json.loads(data)
            else:
                etree.fromstring(data, parser if data.startswith(b"<?xml") else latin1)
            parsed += 1
        except (etree.XMLSyntaxError, ValueError):
            pass
    return parsed


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants now."""
    total = 0
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.Error:  # the command ended between two samples
        return 0
    for p in family:
        with contextlib.suppress(psutil.Error):  # a worker that ended between the listing and the reading
            total += p.memory_info().rss
    return total


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process this one has waited for, their workers included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_replay(log: Path, workers: int, partition_size: int | None, executor: str,
               what: str = "json") -> tuple[float, float, tuple[int, int], dict]:
    """Seconds, CPU seconds (the command and its workers), peak RSS (bytes) of the process tree and of the command
    alone, and the report's inputs/episode count of one `medcom replay` (`what`: its --format, json or html) or
    `medcom calibrate` (`what` "calibrate")."""
    with tempfile.TemporaryDirectory() as tmp:
        medcom = shutil.which("medcom") or "medcom"
        if what == "calibrate":
            out = Path(tmp) / "fitted.toml"
            command = [medcom, "calibrate", str(log), "--out", str(out), "--format", "json", "--workers",
                       str(workers)]
        else:
            out = Path(tmp) / f"report.{what}"
            command = [medcom, "replay", str(log), "--format", what, "--out", str(out), "--workers", str(workers),
                       "--executor", executor]
            if partition_size:
                command += ["--partition-size", str(partition_size)]
        started, cpu = time.perf_counter(), children_cpu()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        watched, peak = psutil.Process(child.pid), [0, 0]

        def sample() -> None:
            while child.poll() is None:
                peak[0] = max(peak[0], tree_rss(watched))
                with contextlib.suppress(psutil.Error):
                    peak[1] = max(peak[1], watched.memory_info().rss)
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, err = child.communicate()
        seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
        sampler.join()
        if child.returncode not in (0, 1):
            raise SystemExit(f"medcom {what} failed ({child.returncode}): {err.decode()[-2000:]}")
        if what == "json":
            report = json.loads(out.read_text())
            return seconds, cpu, (peak[0], peak[1]), {"inputs": report["inputs"], "episodes": len(report["episodes"])}
        if what == "calibrate":
            fitted = json.loads(stdout)
            return seconds, cpu, (peak[0], peak[1]), {"fitted keys": len(fitted["fitted"])}
        return seconds, cpu, (peak[0], peak[1]), {"html bytes": out.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, help="reuse or create the generated log here")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--partition-size", type=int, help="replay's --partition-size (its default if not given)")
    parser.add_argument("--executor", choices=("local", "dask"), default="local", help="replay's --executor")
    parser.add_argument("--formats", choices=("national", "oioxml"), default="national",
                        help="the generated log's formats (a reused --dir keeps its own)")
    parser.add_argument("--outputs", nargs="+", choices=("json", "html", "calibrate"), default=["json"],
                        help="what to run: replay --format json / html, calibrate")
    args = parser.parse_args()
    # The command as an installed wheel runs it: pip compiles a wheel's modules when it installs them, while an
    # editable tree under PYTHONDONTWRITEBYTECODE=1 compiled medcom's ~100 modules in every process (~0.5 G
    # instructions, 6 % of a 5,000-message replay, measured with callgrind).
    compileall.compile_dir(Path(MEDCOM_INIT).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp)
        if not directory.exists() or not any(directory.iterdir()):
            started = time.perf_counter()
            generate(directory, args.messages, invalid_share=0.02, formats=args.formats)
            print(f"generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        files = sorted(p for p in directory.iterdir() if p.suffix in (".xml", ".json"))
        started, started_cpu = time.perf_counter(), time.process_time()
        parsed = raw_parse(files)
        raw_time, raw_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        n = len(files)
        print(f"messages: {n} ({parsed} well-formed, {sum(p.suffix == '.json' for p in files)} FHIR JSON)")
        print(f"raw parse (lxml/json):   {n / raw_time:10.0f} msg/s  ({n / raw_cpu:.0f} msg/s of CPU)")
        for what in args.outputs:
            for workers in args.workers:
                seconds, cpu, peak, seen = run_replay(directory, workers, args.partition_size, args.executor, what)
                command = "calibrate" if what == "calibrate" else f"replay --format {what}"
                print(f"medcom {command} --executor {args.executor} --workers {workers}: {n / seconds:8.0f} msg/s  "
                      f"({seconds:.1f} s; ratio to raw {raw_time / seconds:.2f}; CPU {cpu:.1f} s, {n / cpu:.0f} msg/s "
                      f"of CPU, ratio {raw_cpu / cpu:.2f}; peak memory {peak[0] / 2**20:.0f} MiB, process tree, "
                      f"{peak[1] / 2**20:.0f} MiB the command alone; {seen})")

if __name__ == "__main__":
    main()
