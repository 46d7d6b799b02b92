"""`medcom simulate`: a planner scenario's variants, replicated, with mean and 95 % CI."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from medcom.cli.common import (
    _FORCE,
    EXIT_OK,
    CommandError,
    _check_scheduler,
    _output_dir,
    _own_dir,
    _replications,
    _scenario_path,
    _write_text,
)
from medcom.events import FORMATS
from medcom.executors import ExecutorError


@click.command()
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

    # Imported here: numpy, scipy and matplotlib would slow every other command's start (matplotlib, for --out's
    # charts, only where they are drawn: it took a second before the workers started).
    from medcom.reports.simulate import to_json as sim_json
    from medcom.reports.simulate import to_text as sim_text
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
        raise CommandError(f"medcom simulate: {exc}") from None
    changes = {k: v for k, v in (("replications", replications), ("seed", seed)) if v is not None}
    try:
        loaded = with_run(loaded, **changes) if changes else loaded
    except ScenarioError as exc:
        raise CommandError(f"medcom simulate: {exc}") from None
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
        raise CommandError(f"medcom simulate: {exc}") from None
    data = result.as_dict()
    if (both_sides := make_bill(result)) is not None:
        data["bill"] = both_sides
    if analysis is not None:
        data["sensitivity"] = sensitivity_result
    click.echo(sim_json(data) if fmt == "json" else sim_text(data))
    try:
        if out is not None:
            from medcom.reports.plots import write_plots
            from medcom.reports.simulate_html import to_html as sim_html

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
        raise CommandError(f"medcom simulate: cannot write {exc.filename or ''}: {exc.strerror or exc}") from None
    if emit_log is not None:
        click.echo(f"wrote {built.messages} messages and {built.sidecar_events} side-car events of replication 1 "
                   f"({metrics.values['episodes']} counted episodes) to {emit_log}", err=True)
    sys.exit(EXIT_OK)
