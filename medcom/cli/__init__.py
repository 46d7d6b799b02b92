"""The `medcom` command line (CONTRACT.md): the group, which loads a command's module only when that command runs
or its help is shown, and what every command gets from it (masked stdout and stderr, one line and exit 2 for a tool
error, SIGTERM and SIGHUP unwinding the run). Each command is a module of its own beside this one."""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator

import click

from medcom.cli.common import CommandError
from medcom.executors import ExecutorError
from medcom.reports.masking import MaskedStream

# Only click and light modules at import: `medcom --help` must start at once. Each command imports what it runs
# (FHIR models, pydantic, numpy, lxml) in its body; tests/test_cli_help.py checks that importing this module
# loads none of them, nor any command's module.

# A command: its name, then the module and the click command in it (one line each).
COMMANDS = {
    "validate": "medcom.cli.validate:validate",
    "replay": "medcom.cli.replay:replay",
    "simulate": "medcom.cli.simulate:simulate",
    "build": "medcom.cli.build:build",
    "calibrate": "medcom.cli.calibrate:calibrate",
    "sweep": "medcom.cli.sweep:sweep",
    "rules": "medcom.cli.rules:rules",
    "counterpart": "medcom.cli.counterpart:counterpart",
}


class _Stopped(SystemExit):
    """SIGTERM or SIGHUP (timeout, systemd, CI cancelling a job): unwinds the command as an exception does, so
    that every `finally` and context manager runs (replay's temporary files hold patients' messages)."""


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """While a command runs, SIGTERM and SIGHUP raise `_Stopped` (once: a second signal cannot cut the clean-up
    short); SIGINT raises KeyboardInterrupt as always. Only in the main thread, where Python handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = (signal.SIGTERM, signal.SIGHUP)

    def stop(signum: int, _frame: object) -> None:
        for number in caught:
            signal.signal(number, signal.SIG_IGN)
        raise _Stopped(128 + signum)

    before = {number: signal.signal(number, stop) for number in caught}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def _masked_std_streams() -> Iterator[None]:
    """stdout and stderr through `MaskedStream` for the whole command, usage errors included: whatever is printed
    has its CPR numbers masked (stdout shows them with --show-cpr: `_reveal_cprs`)."""
    before = sys.stdout, sys.stderr
    streams = [MaskedStream(s) for s in before]
    sys.stdout, sys.stderr = streams
    try:
        yield
    finally:
        for stream in streams:
            with contextlib.suppress(Exception):  # a closed pipe: nothing more can be said
                stream.close_masking()
        sys.stdout, sys.stderr = before




class _Group(click.Group):
    """Commands loaded lazily from `COMMANDS` (click's LazyGroup pattern: a command's module is imported when it
    runs or its help is shown). Usage errors exit 2 (click's default too); tool errors are a `CommandError`: one
    line and exit 2; SIGTERM and SIGHUP end the run as an exception does, files cleaned up, with one line. All a
    command prints goes through `_masked_std_streams`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, name = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command), COMMANDS[cmd_name]
        return command

    def main(self, *args: object, **kwargs: object) -> object:
        with _masked_std_streams():
            return super().main(*args, **kwargs)  # type: ignore[arg-type]

    def invoke(self, ctx: click.Context) -> object:
        try:
            with _signals_unwind():
                return super().invoke(ctx)
        except _Stopped as exc:
            raise CommandError(f"medcom: stopped by {signal.Signals(int(exc.code or 0) - 128).name}",
                               int(exc.code or 1)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ExecutorError as exc:  # a worker process killed, wherever a command uses workers
            raise CommandError(f"medcom: {exc}") from None
        except Exception as exc:
            from medcom.policy import PolicyError  # here, not at import: it loads the holiday calendars

            if not isinstance(exc, PolicyError):
                raise
            raise CommandError(f"medcom: policy: {exc}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="medcom")
def main() -> None:
    """MedCom admission and discharge messages: validate, replay the agreement, simulate.

    \b
    Examples:
      medcom validate inbox/ --receipts outbox/
      medcom replay examples/log --format html --out report.html

    \b
    Exit codes: 0 clean, 1 findings (validate, replay, build, calibrate), 2 usage or tool error.
    Each command's --help says more: medcom replay --help.
    """

