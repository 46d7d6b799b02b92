"""Run the `medcom` command line in tests and check the contract every run keeps.

In-process (`invoke`, `medcom`) wherever the test does not need a real process: click's CliRunner runs the group's
`main`, which installs its masked stdout and stderr over the runner's and closes them before the result is read, so
the result's stdout and stderr are what a user sees (a process costs ~1.3 s more). `medcom_process` is for what
needs one: signals, process groups, file descriptors and their limits, TMPDIR, the console script."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import traceback
from pathlib import Path

from click.testing import CliRunner, Result
from lxml import etree

from helpers import ROOT
from medcom.cli import main


def invoke(*args: object, cwd: Path | None = None) -> Result:
    """One in-process run (in `cwd` if given); the result's exit code, stdout and stderr (kept apart)."""
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        return CliRunner().invoke(main, [str(a) for a in args])


def no_traceback(result: Result) -> Result:
    """Fail with the traceback when the run ended in an exception; the result otherwise."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError("".join(traceback.format_exception(*result.exc_info)))  # type: ignore[misc]
    assert result.exit_code in (0, 1, 2), result.exit_code
    assert "Traceback" not in result.output
    return result


def medcom(*args: object) -> Result:
    """`medcom ARGS` run in-process from the repository's folder, as a user runs it there (relative paths such as
    examples/log work); a run that ends in a traceback fails the test."""
    return no_traceback(invoke(*args, cwd=ROOT))


def medcom_process(*args: object, cwd: Path = ROOT, **options: object) -> subprocess.CompletedProcess[str]:
    """`python -m medcom ARGS` as a process of its own, output as text; `options` go to subprocess.run."""
    return subprocess.run([sys.executable, "-m", "medcom", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, **options)  # type: ignore[call-overload]


def our_receipt_text(path: Path) -> str:
    """What medcom writes into a receipt: a negative XCTL's RefuseText, an Acknowledgement's OperationOutcome
    (the rest quotes the original's ids and addresses as they are, as the protocol asks: a 15-digit SOR code
    holds a date-shaped window that is no CPR)."""
    if path.suffix == ".xml":
        return "\n".join(etree.parse(str(path)).getroot().xpath("//*[local-name()='RefuseText']/text()"))
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps([e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "OperationOutcome"],
                      ensure_ascii=False)
