"""The fork server that a replay's local workers are forked from (medcom.replay.warm): its warm-up is chosen
from a sample of the log, so that a pure OIOXML log's workers do not wait for the FHIR stack to be read in."""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from medcom import executors
from medcom.replay.partition import warm_modules

EXAMPLES = Path(__file__).parent.parent / "examples" / "log"
OIOXML = "medcom.replay.warm"
FHIR = ("medcom.replay.warm", "medcom.replay.warm_fhir")


def oioxml_log(into: Path) -> Path:
    into.mkdir()
    for path in EXAMPLES.glob("*.xml"):
        shutil.copy(path, into)
    return into


def test_a_pure_oioxml_log_is_not_warmed_for_fhir(tmp_path: Path) -> None:
    log = oioxml_log(tmp_path / "log")
    (log / "events.jsonl").write_text('{"kind": "phone_call"}\n')  # a side-car's JSON is no FHIR
    (log / "notes.json.txt").write_text("{}")  # not an input
    assert warm_modules([log]) == (OIOXML,)


@pytest.mark.parametrize("how", ["json", "fhir xml", "in an archive", "one folder down", "byte-order mark"])
def test_a_log_with_fhir_is_warmed_for_it(tmp_path: Path, how: str) -> None:
    log = oioxml_log(tmp_path / "log")
    bundle = next(EXAMPLES.glob("*.json")).read_bytes()
    if how == "json":
        (log / "x.json").write_bytes(bundle)
    elif how == "fhir xml":
        (log / "x.xml").write_bytes(b'<?xml version="1.0"?>\n<Bundle xmlns="http://hl7.org/fhir"/>')
    elif how == "in an archive":
        with zipfile.ZipFile(tmp_path / "log.zip", "w") as archive:
            archive.writestr("log/x.json", bundle)
        log = tmp_path / "log.zip"
    elif how == "one folder down":
        (log / "day2").mkdir()
        (log / "day2" / "x.json").write_bytes(bundle)
    else:
        (log / "x.json").write_bytes(b"\xef\xbb\xbf" + bundle)
    assert warm_modules([log]) == FHIR


def fhir_stack(_: int) -> tuple[int, bool, bool]:
    """Which process started this worker; whether it had the FHIR stack and the IG packages before its task."""
    return os.getppid(), "medcom.formats.fhir_adapter" in sys.modules, "medcom.formats.fhir.igpackages" in sys.modules


def test_an_oioxml_logs_workers_are_forked_without_the_fhir_stack(tmp_path: Path) -> None:
    # Issue 23: the server read FHIR example Bundles before it forked any worker, and a 5,012-message OIOXML log
    # with two workers took 1.14 times the wall time of spawned workers.
    pool = executors.WorkerPool(2, preload=warm_modules([oioxml_log(tmp_path / "log")]))
    try:
        started = list(pool.map(fhir_stack, range(2)))
    finally:
        pool.close()
    assert all(parent != os.getpid() for parent, _, _ in started)  # forked by the server
    assert not any(fhir or packages for _, fhir, packages in started)
