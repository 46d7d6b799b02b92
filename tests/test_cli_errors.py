"""One error type for usage and tool errors (issue 22): a command raises `CommandError`; the group prints its
message as one line on the masked stderr and exits with its code, after the command's clean-up has run."""

from __future__ import annotations

import click
import pytest
from helpers.cli import invoke, no_traceback

from medcom.cli import main
from medcom.cli.common import EXIT_FINDINGS, CommandError


def _command(code: int | None, cleaned: list[str]) -> click.Command:
    @click.command("fails")
    def fails() -> None:
        try:
            click.echo("report so far")
            raise CommandError("medcom fails: --out /x/0101701234.txt: Permission denied",
                               *([] if code is None else [code]))
        finally:
            cleaned.append("done")

    return fails


@pytest.mark.parametrize("code", [None, EXIT_FINDINGS])
def test_a_command_error_is_one_masked_line_and_its_exit_code(monkeypatch: pytest.MonkeyPatch,
                                                              code: int | None) -> None:
    cleaned: list[str] = []
    monkeypatch.setitem(main.commands, "fails", _command(code, cleaned))
    result = no_traceback(invoke("fails"))
    assert result.exit_code == (2 if code is None else code)
    assert result.stderr == "medcom fails: --out /x/010170-****.txt: Permission denied\n"  # no "Error:", masked
    assert result.stdout == "report so far\n" and cleaned == ["done"]
