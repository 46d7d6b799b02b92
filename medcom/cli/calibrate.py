"""`medcom calibrate`: a planner scenario fitted to what a replayed message log shows."""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

import click

from medcom.cli.common import EXIT_FINDINGS, EXIT_OK, CommandError, _output_file, _scenario_path
from medcom.identifiers import mask_cprs
from medcom.reports.schemas import CALIBRATE
from medcom.safe_files import replace_file


def _scenario_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """calibrate --out: a file it can replace whole (not a device, FIFO or link such as /dev/stdout)."""
    if value is not None and os.path.lexists(value) and not stat.S_ISREG(os.lstat(value).st_mode):
        raise click.BadParameter(f"{value} is not a regular file; the fitted scenario is written to a file")
    return _output_file(ctx, param, value)


@click.command()
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

    from medcom.executors import ExecutorError
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
        raise CommandError(f"medcom calibrate: --base: {exc}") from None
    policy = load_policy(policy_file)
    policy_table = read_toml_file(policy_file, "policy file") if policy_file else None
    limits = policy.messages
    read = ReadOptions(limits.max_message_bytes, None, limits.max_timeline_bytes, limits.max_findings_per_file,
                       sent_before_event=False)
    try:  # the log replayed in partitions; calibration reads their stays' rows from disk into arrays
        with replay_partitioned([log], policy, read, EpisodeStays(), workers=workers) as run:
            errors = [f for f in run.findings if f.severity == Severity.ERROR]
            fitted = fit_stays(run.merged_items(key=lambda row: row.name), policy, base, log=log.name or str(log),
                               base_name=base_path.name, name=name or f"calibrated-{log.stem or 'log'}",
                               policy_table=policy_table)
    except (ExecutorError, SpoolError) as exc:
        raise CommandError(f"medcom calibrate: {exc}") from None
    except CalibrationError as exc:
        raise CommandError(f"medcom calibrate: {log}: {exc}") from None
    text = mask_cprs(to_toml(fitted))  # a log named after a patient names the scenario
    try:  # checked as a scenario before it is written: a file calibrate writes always loads
        scenario_from_raw(parse_toml(text, str(out)), str(out))
    except PolicyError as exc:
        raise CommandError(f"medcom calibrate: the fitted scenario does not hold, nothing written: {exc}") from None
    try:  # a new file beside --out, renamed over it: never half a scenario
        replace_file(out.parent, out.name, text.encode("utf-8"))
    except OSError as exc:
        raise CommandError(f"medcom calibrate: --out {out}: {exc.strerror or exc}") from None
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
