"""Run the `medcom` command line in-process and check the contract every run keeps."""

from __future__ import annotations

import json
import traceback
from pathlib import Path

from click.testing import CliRunner, Result
from lxml import etree

from medcom.cli import main


def invoke(*args: str) -> Result:
    """One in-process run; the result's exit code, stdout and stderr (kept apart)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def no_traceback(result: Result) -> Result:
    """Fail with the traceback when the run ended in an exception; the result otherwise."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError("".join(traceback.format_exception(*result.exc_info)))  # type: ignore[misc]
    assert result.exit_code in (0, 1, 2), result.exit_code
    assert "Traceback" not in result.output
    return result


def our_receipt_text(path: Path) -> str:
    """What medcom writes into a receipt: a negative XCTL's RefuseText, an Acknowledgement's OperationOutcome
    (the rest quotes the original's ids and addresses as they are, as the protocol asks: a 15-digit SOR code
    holds a date-shaped window that is no CPR)."""
    if path.suffix == ".xml":
        return "\n".join(etree.parse(str(path)).getroot().xpath("//*[local-name()='RefuseText']/text()"))
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps([e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "OperationOutcome"],
                      ensure_ascii=False)
