"""The `medcom` command line (CONTRACT.md): validate, replay, simulate, build."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import click

from medcom.events import FORMATS, WRAPS
from medcom.executors import EXECUTORS, ExecutorError
from medcom.identifiers import mask_cprs
from medcom.reports.junit import FailOn
from medcom.reports.masking import MaskedStream
from medcom.reports.schemas import CALIBRATE, SWEEP
from medcom.safe_files import replace_file, writable_dir_problem, writable_file_problem

# Only click and light modules at import: `medcom --help` must start at once. Each command imports what it runs
# (FHIR models, pydantic, numpy, lxml) in its body; tests/test_cli_help.py checks that importing this module
# loads none of them.

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
PARTITION_MESSAGES_DEFAULT = 20_000  # medcom.replay.partition.PARTITION_MESSAGES (not imported: it loads numpy)
PARTITION_MESSAGES_MAX = 1_000_000_000  # --partition-size at most (numpy's int64 grouping overflowed at 2^63)


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
        click.echo(f"medcom: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        click.echo(f"medcom: {option} {path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)


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


def _reveal_cprs() -> None:
    """--show-cpr: the report on stdout shows CPR numbers in full (stderr stays masked)."""
    if isinstance(sys.stdout, MaskedStream):
        sys.stdout.reveal()


class _Group(click.Group):
    """Usage errors exit 2 (click's default too); tool errors print one line and exit 2; SIGTERM and SIGHUP end
    the run as an exception does, files cleaned up, with one line. All a command prints goes through
    `_masked_std_streams`."""

    def main(self, *args: object, **kwargs: object) -> object:
        with _masked_std_streams():
            return super().main(*args, **kwargs)  # type: ignore[arg-type]

    def invoke(self, ctx: click.Context) -> object:
        try:
            with _signals_unwind():
                return super().invoke(ctx)
        except _Stopped as exc:
            click.echo(f"medcom: stopped by {signal.Signals(int(exc.code or 0) - 128).name}", err=True)
            ctx.exit(int(exc.code or 1))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            from medcom.policy import PolicyError  # here, not at import: it loads the holiday calendars

            if isinstance(exc, ExecutorError):  # a worker process killed, wherever a command uses workers
                click.echo(f"medcom: {exc}", err=True)
                ctx.exit(EXIT_USAGE)
            if not isinstance(exc, PolicyError):
                raise
            click.echo(f"medcom: policy: {exc}", err=True)
            ctx.exit(EXIT_USAGE)


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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=_EXISTING)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), callback=_output_file,
              help="Write the report here.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML policy file overriding agreement parameters.")
@click.option("--suppress", "suppress_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Known accepted findings: one RULE or RULE@GLOB a line.")
@click.option("--receipts", "receipts_dir", type=click.Path(file_okay=False, path_type=Path), callback=_output_dir,
              help="Write a positive or negative receipt here for every message that asks for one.")
@click.option("--by-sender", is_flag=True, help="Add a per-sender table with a red/yellow/green risk category.")
@click.option("--schemas", "schemas_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder of MedCom's official XSDs to validate against instead of the shipped ones "
                   "(an Emessage entry point per namespace, e.g. the 34C generation's).")
@click.option("--show-cpr", is_flag=True, help="Show CPR numbers in full (masked by default).")
@_FAIL_ON
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@_FORCE
def validate(paths: tuple[Path, ...], fmt: str, out: Path | None, policy_file: Path | None,
             suppress_file: Path | None, receipts_dir: Path | None, by_sender: bool, schemas_dir: Path | None,
             show_cpr: bool, fail_on: str, workers: int, force: bool) -> None:
    """Validate messages and timelines (OIOXML, FHIR, .jsonl; files, directories, .zip) against their schemas
    or profiles and the message rules.

    \b
    Examples:
      medcom validate inbox/ --format junit --out validate.xml
      medcom validate inbox.zip --receipts outbox/ --by-sender

    \b
    Exit codes: 0 no finding fails the run (see --fail-on), 1 findings that fail it, 2 usage or tool error.
    """
    from medcom.calendar import TZ
    from medcom.formats.messages import ReadOptions
    from medcom.formats.oioxml.schemas import SchemaError, check_user_dir
    from medcom.policy import load_policy
    from medcom.reports.validate import BatchResult, to_json, to_junit, to_text
    from medcom.validate import BatchOptions, run_batch
    from medcom.validate.suppress import SuppressionError, Suppressions

    policy = load_policy(policy_file)
    try:
        suppressions = Suppressions.load(suppress_file) if suppress_file else Suppressions()
    except SuppressionError as exc:
        click.echo(f"medcom: --suppress: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if schemas_dir is not None:
        try:
            check_user_dir(str(schemas_dir))
        except SchemaError as exc:
            click.echo(f"medcom: --schemas: {exc}", err=True)
            sys.exit(EXIT_USAGE)
    _own_dir(receipts_dir, "--receipts", force)
    limits = policy.messages
    read = ReadOptions(limits.max_message_bytes, str(schemas_dir) if schemas_dir else None,
                       limits.max_timeline_bytes, limits.max_findings_per_file)
    options = BatchOptions(read, suppressions, receipts_dir, datetime.now(TZ).replace(microsecond=0), show_cpr)
    batch = BatchResult.of(run_batch(paths, options, workers=workers))
    risk = policy.risk if by_sender else None
    policy_fail = FailOn(fail_on)
    report = {"json": lambda: to_json(batch, risk, show_cpr), "junit": lambda: to_junit(batch, policy_fail, show_cpr),
              "text": lambda: to_text(batch, risk, show_cpr)}[fmt]()
    _write(out, report, show_cpr)
    sys.exit(EXIT_FINDINGS if batch.fails(policy_fail) else EXIT_OK)


def _instant(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    from medcom.calendar import parse_instant

    try:
        return parse_instant(value)[0]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.argument("log", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "html"]), default="text",
              show_default=True, help="html: one self-contained page with a timeline per episode.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), callback=_output_file,
              help="Write the report here.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML policy file overriding agreement parameters.")
@click.option("--episode", "episodes", multiple=True, help="Only these episodes (repeatable).")
@click.option("--rule", "rules", multiple=True, help="Only these rule ids (repeatable).")
@click.option("--since", callback=_instant, help="Only violations at or after this time (ISO 8601).")
@click.option("--until", callback=_instant, help="Only violations at or before this time (ISO 8601).")
@click.option("--show-cpr", is_flag=True, help="Show CPR numbers in full (masked by default).")
@_FAIL_ON
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes reading the log, and replaying its partitions (same report whatever the number).")
@click.option("--executor", "executor_kind", type=click.Choice(EXECUTORS), default="local", show_default=True,
              help="Where the log's messages are checked and its partitions replayed: local processes (--workers), "
                   "or a dask.distributed cluster (a local one of --workers processes, or the one at --scheduler; "
                   "the files are read here). Same report whichever.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Join the running dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786); its "
                   "workers check the messages and replay the partitions. Needs --executor dask.")
@click.option("--partition-size", type=click.IntRange(1, PARTITION_MESSAGES_MAX), default=PARTITION_MESSAGES_DEFAULT,
              show_default=True,
              help="Messages and timeline lines a partition aims at: the memory one replay task needs (episodes "
                   "that depend on each other stay together). The report does not depend on it.")
def replay(log: Path, fmt: str, out: Path | None, policy_file: Path | None, episodes: tuple[str, ...],
           rules: tuple[str, ...], since: datetime | None, until: datetime | None, show_cpr: bool, fail_on: str,
           workers: int, executor_kind: str, scheduler: str | None, partition_size: int) -> None:
    """Replay a message log (directory or .zip, with events.jsonl) or a timeline (.jsonl) through the rules.

    \b
    Examples:
      medcom replay examples/log --format junit --out replay.xml
      medcom replay log/ --rule CP-1 --episode E2 --policy policy.toml

    \b
    Exit codes: 0 no violation or finding fails the run (see --fail-on), 1 some do, 2 usage or tool error.
    """
    from medcom.formats.messages import ReadOptions
    from medcom.policy import load_policy
    from medcom.progress import Progress
    from medcom.replay.load import count_documents
    from medcom.replay.partition import SpoolError, replay_partitioned
    from medcom.reports.replay import (
        DEFAULT_POLICY,
        MAX_DRAWINGS,
        EpisodeEntries,
        Filters,
        partitioned_report,
        text_lines,
        unknown_rules,
    )
    from medcom.reports.replay import to_junit as replay_junit

    _check_scheduler(executor_kind, scheduler)
    _no_such("--rule", "rule id", unknown_rules(rules), show_cpr=True)
    policy = load_policy(policy_file)
    policy_name = str(policy_file) if policy_file else DEFAULT_POLICY
    limits = policy.messages
    read = ReadOptions(limits.max_message_bytes, None, limits.max_timeline_bytes, limits.max_findings_per_file,
                       sent_before_event=False)
    filters = Filters(frozenset(episodes), frozenset(rules), since, until)
    policy_fail = FailOn(fail_on)
    build = EpisodeEntries(filters, show_cpr, MAX_DRAWINGS if fmt == "html" else 0)  # html draws timelines
    with Progress(count_documents([log]), f"replay {log.name}: reading", "documents", "messages") as reading:
        replaying: list[Progress] = []

        def partitions(count: int) -> None:
            reading.close()
            if count > 1:
                replaying.append(Progress(count, f"replay {log.name}: replaying", "partitions", "messages"))

        try:
            run = replay_partitioned([log], policy, read, build, workers=workers,
                                     executor_kind=executor_kind, scheduler=scheduler,
                                     partition_messages=partition_size, on_document=reading.done,
                                     on_partitions=partitions,
                                     on_partition=lambda n: replaying[0].done(n) if replaying else None)
        except (ExecutorError, SpoolError) as exc:
            click.echo(f"medcom replay: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        finally:
            for bar in replaying:
                bar.close()
    with run:
        _no_such_episodes([part.episode_matches for part in run.summaries], filters.episodes, show_cpr)
        try:
            report = partitioned_report(run, show_cpr, policy, policy_name)
            if fmt == "html":
                from medcom.reports.replay_html import html_chunks

                _write_chunks(out, html_chunks(report, str(log), policy.business_calendar), show_cpr)
            elif fmt == "junit":
                _write(out, replay_junit(report.as_dict(), policy_fail), show_cpr)
            elif fmt == "json":
                _write_chunks(out, _json_chunks(report.as_dict()), show_cpr)
            else:
                _write_chunks(out, _line_chunks(text_lines(report.as_dict())), show_cpr)
        except SpoolError as exc:  # the report's merge rounds of the temporary files, on a full disk
            click.echo(f"medcom replay: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        sys.exit(EXIT_FINDINGS if report.fails(policy_fail) else EXIT_OK)


def _no_such(option: str, what: str, unknown: dict[str, list[str]], show_cpr: bool) -> None:
    """A value of `option` that names nothing is a usage error (exit 2) with the closest names, not an empty
    report: a typo in --episode or --rule must not pass a CI job."""
    if not unknown:
        return
    from medcom.identifiers import mask_cprs

    value, near = next(iter(unknown.items()))
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    text = f"medcom replay: {option} {value}: no such {what}{hint}"
    click.echo(text if show_cpr else mask_cprs(text), err=True)
    sys.exit(EXIT_USAGE)


def _no_such_episodes(matches: list, wanted: frozenset[str], show_cpr: bool) -> None:
    """--episode values no part of the log has: a usage error. Every wanted name starts as not found with no close
    names, so that a log of no partition at all (an empty folder) refuses a typo as any other log does."""
    from medcom.reports.replay import unknown_episodes

    _no_such("--episode", "episode in this log", unknown_episodes([{w: [] for w in wanted}, *matches]), show_cpr)


def _json_chunks(report: dict[str, object]) -> Iterator[str]:
    """The JSON report in pieces of about 64 kB, as json.dump makes it."""
    pieces: list[str] = []
    size = 0
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(report):
        pieces.append(piece)
        size += len(piece)
        if size > 65_536:
            yield "".join(pieces)
            pieces, size = [], 0
    yield "".join(pieces)


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
        click.echo(f"medcom: --out {out}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)


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


@main.command()
@click.argument("scenario")
@_replications
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="html: report.html in --out, the variants side by side with the charts (needs --out).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), callback=_output_dir,
              help="Directory for result.json, summary.txt, report.html and the PNG charts.")
@click.option("--emit-log", type=click.Path(file_okay=False, path_type=Path), callback=_output_dir,
              help="Also write replication 1 of the base as a MedCom XML log plus events.jsonl here.")
@click.option("--emit-formats", type=click.Choice(FORMATS), default="national", show_default=True,
              help="The formats of --emit-log, as build's --formats (oioxml is much faster to write and read).")
@click.option("--sensitivity", is_flag=True,
              help="Also vary each ASSUMPTION (and unmarked) number of the scenario down and up, with the same "
                   "patients, and rank which move the headline most (a tornado chart). Runs the scenario twice per "
                   "key: pick keys with --sensitivity-keys, fewer --replications to go faster.")
@click.option("--sensitivity-keys", "sensitivity_keys", multiple=True, metavar="KEY",
              help="Only these keys (dotted, e.g. municipality.preparation_hours; repeatable); implies --sensitivity.")
@click.option("--sensitivity-range", "sensitivity_range", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.25, show_default=True, help="How far each key moves down and up, as a fraction (0.25: ±25 %).")
@_FORCE
def simulate(scenario: str, replications: int | None, seed: int | None, workers: int, executor_kind: str,
             scheduler: str | None, fmt: str, out: Path | None, emit_log: Path | None, emit_formats: str,
             sensitivity: bool, sensitivity_keys: tuple[str, ...], sensitivity_range: float, force: bool) -> None:
    """Run a planner scenario (a file under scenarios/ or a path): every variant, mean and 95 % CI.

    \b
    Examples:
      medcom simulate discharge-window-12-vs-14 --workers 2 --format html --out results/
      medcom simulate examples/small-scenario.toml --emit-log simulated-log/ --replications 3

    \b
    Exit codes: 0 done, 2 a bad scenario, option or output folder (a simulation has no findings, so never 1).
    """
    from medcom.policy import PolicyError, read_toml_file

    # Imported here: numpy, scipy and matplotlib would slow every other command's start.
    from medcom.reports.plots import write_plots
    from medcom.reports.simulate import to_json as sim_json
    from medcom.reports.simulate import to_text as sim_text
    from medcom.reports.simulate_html import to_html as sim_html
    from simulator.bill import bill as make_bill
    from simulator.run import emit_log as write_log
    from simulator.run import run_scenario
    from simulator.scenario import ScenarioError, load_scenario, with_run

    if fmt == "html" and out is None:
        raise click.UsageError("--format html writes report.html into --out DIR; give --out")
    _check_scheduler(executor_kind, scheduler)
    path = _scenario_path(scenario)
    try:
        loaded = load_scenario(path)
    except (ScenarioError, PolicyError) as exc:
        click.echo(f"medcom simulate: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    changes = {k: v for k, v in (("replications", replications), ("seed", seed)) if v is not None}
    try:
        loaded = with_run(loaded, **changes) if changes else loaded
    except ScenarioError as exc:
        click.echo(f"medcom simulate: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    analysis = None
    if sensitivity or sensitivity_keys:
        from simulator import sensitivity as sens

        try:
            analysis = sens.plan(read_toml_file(path, "scenario"), loaded, list(sensitivity_keys), sensitivity_range)
        except sens.SensitivityError as exc:
            raise click.UsageError(str(exc)) from None
    for directory, option in ((out, "--out"), (emit_log, "--emit-log")):
        _own_dir(directory, option, force)
    try:
        result = run_scenario(loaded, workers=workers, executor=executor_kind, scheduler=scheduler)
        if analysis is not None:
            sensitivity_result = sens.run(analysis, loaded, workers=workers, executor=executor_kind,
                                          scheduler=scheduler)
    except ExecutorError as exc:
        click.echo(f"medcom simulate: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    data = result.as_dict()
    if (both_sides := make_bill(result)) is not None:
        data["bill"] = both_sides
    if analysis is not None:
        data["sensitivity"] = sensitivity_result
    click.echo(sim_json(data) if fmt == "json" else sim_text(data))
    try:
        if out is not None:
            _write_text(out / "result.json", sim_json(data) + "\n")
            _write_text(out / "summary.txt", sim_text(data) + "\n")
            charts = write_plots(result, out)
            if analysis is not None:
                from medcom.reports.sensitivity import tornado

                charts.append(tornado(data["sensitivity"], out))
            _write_text(out / "report.html", sim_html(data, charts))
            click.echo(f"wrote result.json, summary.txt, report.html and {len(charts)} charts to {out}", err=True)
        if emit_log is not None:
            metrics, built = write_log(loaded, emit_log, formats=emit_formats)
    except OSError as exc:
        click.echo(f"medcom simulate: cannot write {exc.filename or ''}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    if emit_log is not None:
        click.echo(f"wrote {built.messages} messages and {built.sidecar_events} side-car events of replication 1 "
                   f"({metrics.values['episodes']} counted episodes) to {emit_log}", err=True)
    sys.exit(EXIT_OK)


@main.command()
@click.argument("timeline", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, callback=_output_dir,
              help="Directory for the messages and events.jsonl.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML policy file (its messages.max_timeline_bytes limits the timeline read).")
@click.option("--wrap", type=click.Choice(WRAPS), default="none", show_default=True,
              help="Write each message bare, inside a VANS envelope, or inside an SBDH holding a VANS envelope.")
@click.option("--formats", type=click.Choice(FORMATS), default="national", show_default=True,
              help="national: MedCom FHIR HospitalNotification and CareCommunication (with Acknowledgements) where "
                   "they replace OIOXML, OIOXML care plan, reports and completion notice; oioxml: OIOXML only.")
@_FORCE
def build(timeline: Path, out: Path, policy_file: Path | None, wrap: str, formats: str, force: bool) -> None:
    """Turn a timeline into the real MedCom messages it describes (plus events.jsonl for what no message
    carries); replaying the output gives the timeline's report.

    \b
    Examples:
      medcom build examples/timeline.jsonl --out log/ && medcom replay log/
      medcom build examples/timeline.jsonl --out sbdh-log/ --formats oioxml --wrap sbdh

    \b
    Exit codes: 0 written, 1 the timeline has invalid lines or says what the formats cannot (nothing written),
    2 usage or tool error (a folder that is not empty without --force, one that cannot be written).
    """
    from medcom.events.build import BuildError
    from medcom.events.build import build as build_messages
    from medcom.events.timeline import read_file
    from medcom.identifiers import mask_cprs
    from medcom.policy import load_policy
    from medcom.reports.formatting import plural

    read = read_file(timeline, load_policy(policy_file).messages.max_timeline_bytes)
    for finding in read.findings:
        click.echo(mask_cprs(f"{finding.file}:{finding.line}: {finding.severity} {finding.rule}: {finding.text}"),
                   err=True)
    if read.rejected:
        click.echo(f"medcom build: {plural(read.rejected, 'invalid line')} in {timeline}; nothing written", err=True)
        sys.exit(EXIT_FINDINGS)
    _own_dir(out, "--out", force)
    try:
        result = build_messages(read.events, out, wrap, formats)
    except BuildError as exc:
        click.echo(mask_cprs(f"medcom build: {exc}"), err=True)
        sys.exit(EXIT_FINDINGS)
    except OSError as exc:
        click.echo(f"medcom build: --out {out}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    for note in result.notes:
        click.echo(mask_cprs(f"medcom build: note: {note}"), err=True)
    click.echo(f"wrote {result.messages} messages and {result.sidecar_events} side-car events to {out}", err=True)
    sys.exit(EXIT_OK)



def _scenario_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """calibrate --out: a file it can replace whole (not a device, FIFO or link such as /dev/stdout)."""
    if value is not None and os.path.lexists(value) and not stat.S_ISREG(os.lstat(value).st_mode):
        raise click.BadParameter(f"{value} is not a regular file; the fitted scenario is written to a file")
    return _output_file(ctx, param, value)


@main.command()
@click.argument("log", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=_scenario_file,
              help="The fitted scenario (TOML) to write.")
@click.option("--base", "base_name", default="nordjylland-2024", show_default=True,
              help="The scenario whose values stand for what the log cannot show (a path or a shipped name).")
@click.option("--name", help="run.name of the fitted scenario (default: calibrated-<the log's name>).")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The policy the log is replayed under; the fitted scenario's [policy] is then this file's.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="What was fitted and what was assumed, on stdout.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes reading the log and replaying its partitions (the same fit whatever the number).")
def calibrate(log: Path, out: Path, base_name: str, name: str | None, policy_file: Path | None, fmt: str,
              workers: int) -> None:
    """Fit a planner scenario to what a replayed message log shows (any format replay reads).

    \b
    Examples:
      medcom calibrate simulated-log/ --out fitted.toml
      medcom calibrate log.zip --out fitted.toml --base discharge-window-12-vs-14 --format json

    \b
    Exit codes: 0 fitted, 1 fitted to the rest of a log with input errors, 2 usage error or nothing to fit.
    """
    import json

    from medcom.findings import Severity
    from medcom.formats.messages import ReadOptions
    from medcom.policy import PolicyError, load_policy, parse_toml, read_toml_file
    from medcom.replay.partition import SpoolError, replay_partitioned
    from simulator.calibrate import CalibrationError, EpisodeStays, fit_stays, to_toml
    from simulator.scenario import ScenarioError, load_scenario, scenario_from_raw

    base_path = _scenario_path(base_name)
    try:
        load_scenario(base_path)
        base = read_toml_file(base_path, "scenario")
    except (ScenarioError, PolicyError) as exc:
        click.echo(f"medcom calibrate: --base: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    policy = load_policy(policy_file)
    policy_table = read_toml_file(policy_file, "policy file") if policy_file else None
    limits = policy.messages
    read = ReadOptions(limits.max_message_bytes, None, limits.max_timeline_bytes, limits.max_findings_per_file,
                       sent_before_event=False)
    try:  # the log replayed in partitions; calibration holds the episodes' stays, not the log
        with replay_partitioned([log], policy, read, EpisodeStays(), workers=workers) as run:
            errors = [f for f in run.findings if f.severity == Severity.ERROR]
            found = list(run.merged_items(key=lambda stay: stay.name))
    except (ExecutorError, SpoolError) as exc:
        click.echo(f"medcom calibrate: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        fitted = fit_stays(found, policy, base, log=log.name or str(log), base_name=base_path.name,
                           name=name or f"calibrated-{log.stem or 'log'}", policy_table=policy_table)
    except CalibrationError as exc:
        click.echo(f"medcom calibrate: {log}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    text = mask_cprs(to_toml(fitted))  # a log named after a patient names the scenario
    try:  # checked as a scenario before it is written: a file calibrate writes always loads
        scenario_from_raw(parse_toml(text, str(out)), str(out))
    except PolicyError as exc:
        click.echo(f"medcom calibrate: the fitted scenario does not hold, nothing written: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    try:  # a new file beside --out, renamed over it: never half a scenario
        replace_file(out.parent, out.name, text.encode("utf-8"))
    except OSError as exc:
        click.echo(f"medcom calibrate: --out {out}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    for note in fitted.notes:
        click.echo(f"medcom calibrate: note: {note}", err=True)
    summary = {"$schema": CALIBRATE, **fitted.as_dict()}
    summary["out"] = str(out)
    summary["input_errors"] = len(errors)
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(_calibration_text(summary))
    if errors:
        click.echo(f"medcom calibrate: the log has {len(errors)} input error(s) (see medcom replay); fitted to the "
                   f"rest", err=True)
    sys.exit(EXIT_FINDINGS if errors else EXIT_OK)


def _toml_value(value: object) -> str:
    """A value as the scenario file writes it (true, 08:00:00, [1, 2], "poisson")."""
    import json

    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}:\d{2}", value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _calibration_text(summary: dict) -> str:
    lines = [f"fitted {summary['out']} to {summary['log']} ({len(summary['fitted'])} keys fitted, "
             f"{len(summary['assumed'])} copied from {summary['base']})", "", "FITTED from the log:"]
    lines += [f"  {key} = {_toml_value(v['value'])}  (n = {v['n']}: {v['how']})"
              for key, v in summary["fitted"].items()]
    gof = summary["goodness_of_fit"].get("ready_after")
    if gof:
        lines += ["", f"goodness of fit, admission -> ready: {gof['model']}; {gof['test']}: D = {gof['ks_statistic']}, "
                      f"p = {gof['p_value']} (n = {gof['n']})"]
    lines += ["", f"ASSUMPTION, copied from {summary['base']} (a log cannot show them):"]
    lines += [f"  {key} = {_toml_value(v['value'])}" + (f"  ({v['why']})" if v["why"] else "")
              for key, v in summary["assumed"].items()]
    lines += [f"  [{t}] copied whole" for t in summary["copied_tables"] if t != "policy"]
    lines += [f"  [policy]: {summary['policy']}"]
    return "\n".join(lines)


@main.command()
@click.argument("scenario")
@click.option("--vary", "vary", multiple=True, required=True, metavar="KEY=VALUES",
              help="A scenario key (dotted, as in the file: municipality.discharge_window_end, "
                   "policy.care_plan.cutoff) and its values, comma-separated (12:00,13:00,14:00). Repeat for a grid.")
@click.option("--metric", "metrics", multiple=True,
              help="A metric to tabulate and chart (repeatable; default: tax days, tax DKK, bed-days waiting, late "
                   "care plans, same-day acknowledgements). JSON has them all.")
@_replications
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="html: report.html in --out with the charts (needs --out).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), callback=_output_dir,
              help="Directory for sweep.json, sweep.txt, report.html and the PNG charts.")
@_FORCE
def sweep(scenario: str, vary: tuple[str, ...], metrics: tuple[str, ...], replications: int | None,
          seed: int | None, workers: int, executor_kind: str, scheduler: str | None, fmt: str,
          out: Path | None, force: bool) -> None:
    """Run a grid of variants of a scenario (every combination of the --vary values) with common random
    numbers: mean and 95 % CI per point, and the paired difference against the scenario's base.

    \b
    Examples:
      medcom sweep examples/small-scenario.toml --vary municipality.discharge_window_end=12:00,13:00,14:00
      medcom sweep discharge-window-12-vs-14 --vary policy.care_plan.cutoff=12:00,14:00 --format html --out sw/

    \b
    Exit codes: 0 done, 2 a bad scenario, --vary value or option.
    """
    import json
    from dataclasses import replace

    from medcom.policy import PolicyError, read_toml_file
    from medcom.reports.simulate import METRICS as METRIC_INFO
    from medcom.reports.sweep import DEFAULT_METRICS, with_reading_aids
    from medcom.reports.sweep import to_html as sweep_html
    from medcom.reports.sweep import to_text as sweep_text
    from medcom.reports.sweep_plots import write_sweep_plots
    from simulator.bill import bill as make_bill
    from simulator.run import run_scenario
    from simulator.scenario import ScenarioError, load_scenario, with_run
    from simulator.sweep import SweepError, grid, result_dict

    if fmt == "html" and out is None:
        raise click.UsageError("--format html writes report.html into --out DIR; give --out")
    _check_scheduler(executor_kind, scheduler)
    for m in metrics:
        if m not in METRIC_INFO:
            raise click.BadParameter(f"unknown metric {m!r}; one of {', '.join(METRIC_INFO)}", param_hint="--metric")
    shown = metrics or DEFAULT_METRICS
    path = _scenario_path(scenario)
    try:
        marks = load_scenario(path).marks  # the file itself first: its errors name the file's keys
        raw = read_toml_file(path, "scenario")
        g = grid(raw, str(path), list(vary))
        changes = {k: v for k, v in (("replications", replications), ("seed", seed)) if v is not None}
        loaded = replace(with_run(g.scenario, **changes) if changes else g.scenario, marks=marks)
    except (ScenarioError, PolicyError, SweepError) as exc:
        click.echo(f"medcom sweep: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    g.scenario = loaded
    _own_dir(out, "--out", force)
    try:
        result = run_scenario(loaded, workers=workers, executor=executor_kind, scheduler=scheduler)
    except ExecutorError as exc:
        click.echo(f"medcom sweep: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    data = {"$schema": SWEEP, **with_reading_aids(result_dict(g, result, make_bill(result)))}
    text = json.dumps(data, indent=2, ensure_ascii=False) if fmt == "json" else sweep_text(data, shown)
    click.echo(text)
    if out is not None:
        try:
            _write_text(out / "sweep.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            _write_text(out / "sweep.txt", sweep_text(data, shown) + "\n")
            charts = write_sweep_plots(data, shown, out)
            _write_text(out / "report.html", sweep_html(data, charts, shown))
        except OSError as exc:
            click.echo(f"medcom sweep: cannot write {exc.filename or ''}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_USAGE)
        click.echo(f"wrote sweep.json, sweep.txt, report.html and {len(charts)} charts to {out}", err=True)
    sys.exit(EXIT_OK)
from medcom.cli import rules as _rules  # noqa: E402,F401  (registers `medcom rules`)
from medcom.cli.counterpart import counterpart  # noqa: E402, F401  (`medcom counterpart`, on main: imports helpers above)
