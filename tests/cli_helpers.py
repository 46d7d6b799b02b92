"""Run the `medcom` command line in-process and check the contract every run keeps."""

from __future__ import annotations

import traceback

from click.testing import CliRunner, Result

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
