"""What several `medcom` commands share: the exit codes, the one error type for usage and tool errors, the
option callbacks that check outputs before the work starts, and the writers of reports and planner files."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import click

from medcom.executors import EXECUTORS
from medcom.identifiers import mask_cprs
from medcom.reports.junit import FailOn
from medcom.reports.masking import MaskedStream
from medcom.safe_files import writable_dir_problem, writable_file_problem

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class CommandError(click.ClickException):
    """A usage or tool error found while a command runs: its message on stderr in one line, as written (it names
    the command and the option or file), then `exit_code`. Raised, not echoed-then-exited, so that every
    `finally` and context manager of the command runs first; stderr masks CPR numbers (`_masked_std_streams`)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: object = None) -> None:
        click.echo(self.message, err=True)


def _output_file(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """--out FILE: checked before the work starts (its directory exists and is writable)."""
    if value is not None and (problem := writable_file_problem(value)):
        raise click.BadParameter(problem)
    return value


def _output_dir(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """An output directory: checked before the work starts (it can be created and written); created then."""
    if value is not None and (problem := writable_dir_problem(value)):
        raise click.BadParameter(problem)
    return value


def _own_dir(path: Path | None, option: str, force: bool) -> None:
    """An output folder this command fills: empty, or (with --force) emptied of what medcom wrote there earlier,
    then created; what the command wrote is listed there when it ends (medcom.output_dirs). Else exit 2."""
    if path is None:
        return
    from medcom.output_dirs import OutputDirError, owned

    try:
        click.get_current_context().with_resource(owned(path, option, force))
    except OutputDirError as exc:
        raise CommandError(f"medcom: {exc}") from None
    except OSError as exc:
        raise CommandError(f"medcom: {option} {path}: {exc.strerror or exc}") from None


_FORCE = click.option("--force", is_flag=True,
                      help="Use an output folder that is not empty: delete what medcom wrote there before (the "
                           "files its .medcom-output lists); a folder holding other files is refused all the same.")


def _write(out: Path | None, text: str, show_cpr: bool = False) -> None:
    """The report to --out (or stdout); a failure to write it is a tool error (exit 2), said in one line."""
    _write_chunks(out, (text,), show_cpr)


def _check_scheduler(executor_kind: str, scheduler: str | None) -> None:
    """--scheduler only with --executor dask (a usage error before any work)."""
    if scheduler and executor_kind != "dask":
        raise click.UsageError("--scheduler joins a dask cluster: give --executor dask too")


_EXISTING = click.Path(exists=True, path_type=Path)
_FAIL_ON = click.option("--fail-on", type=click.Choice([f.value for f in FailOn]), default="error",
                        show_default=True, help="The severity that fails the run: exit 1 and a JUnit failure.")


def _replications(command: Callable[..., None]) -> Callable[..., None]:
    """The options of a command that runs a scenario's replications (simulate, sweep): how many, the seed, and
    where they run."""
    for option in reversed([
        click.option("--replications", type=click.IntRange(2, 10_000), help="Override the scenario's replications."),
        click.option("--seed", type=click.IntRange(0), help="Override the scenario's seed."),
        click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
                     help="Processes running replications (same numbers whatever the count)."),
        click.option("--executor", "executor_kind", type=click.Choice(EXECUTORS), default="local", show_default=True,
                     help="local: processes on this machine; dask: a dask.distributed cluster (a local one of "
                          "--workers processes, or the one at --scheduler). Same numbers whichever."),
        click.option("--scheduler", metavar="ADDRESS",
                     help="Join the running dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786); "
                          "its workers run the replications. Needs --executor dask."),
    ]):
        command = option(command)
    return command



def _reveal_cprs() -> None:
    """--show-cpr: the report on stdout shows CPR numbers in full (stderr stays masked)."""
    if isinstance(sys.stdout, MaskedStream):
        sys.stdout.reveal()



def _instant(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    from medcom.calendar import parse_instant

    try:
        return parse_instant(value)[0]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None



def _line_chunks(lines: Iterable[str]) -> Iterator[str]:
    """Lines joined into pieces of a thousand (each piece ends where a line ends, without its newline)."""
    block: list[str] = []
    first = True
    for line in lines:
        block.append(line)
        if len(block) >= 1000:
            yield ("" if first else "\n") + "\n".join(block)
            block, first = [], False
    yield ("" if first else "\n") + "\n".join(block)


def _write_chunks(out: Path | None, chunks: Iterable[str], show_cpr: bool = False) -> None:
    """`_write(out, "".join(chunks))` without holding the whole report: to --out (or stdout), a newline at the
    end; on stdout, styles are dropped off a terminal as click.echo drops them (chunks end where lines end, and
    a style never spans lines). CPR numbers masked unless `show_cpr`: in the file here, on stdout by its stream
    (a chunk ends between lines or JSON tokens, so a CPR number is never cut in two)."""
    if out is None:
        if show_cpr:
            _reveal_cprs()
        for chunk in chunks:
            click.echo(chunk, nl=False)
        click.echo("")
        return
    try:
        with out.open("w", encoding="utf-8") as stream:
            for chunk in chunks:
                stream.write(chunk if show_cpr else mask_cprs(chunk))
            stream.write("\n")
    except OSError as exc:
        raise CommandError(f"medcom: --out {out}: {exc.strerror or exc}") from None


def _write_text(path: Path, text: str) -> None:
    """A text file of a planner's output, CPR numbers masked (a scenario or log may be named after a patient);
    OSError to the caller."""
    path.write_text(mask_cprs(text), encoding="utf-8")


def _scenario_path(name: str) -> Path:
    """A path, or the name of a scenario shipped with medcom (simulator/scenarios/, with or without .toml)."""
    from importlib import resources

    if Path(name).is_file():
        return Path(name)
    shipped = resources.files("simulator.scenarios")
    for candidate in (name, f"{name}.toml"):
        entry = shipped.joinpath(candidate)
        if entry.is_file():
            return Path(str(entry))
    names = ", ".join(sorted(e.name.removesuffix(".toml") for e in shipped.iterdir() if e.name.endswith(".toml")))
    raise click.BadParameter(f"no scenario file {name!r}; shipped scenarios: {names}", param_hint="SCENARIO")

