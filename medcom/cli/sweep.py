"""`medcom sweep`: a grid of variants of a scenario, with common random numbers."""

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
from medcom.executors import ExecutorError
from medcom.reports.schemas import SWEEP


@click.command()
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
        raise CommandError(f"medcom sweep: {exc}") from None
    g.scenario = loaded
    _own_dir(out, "--out", force)
    try:
        result = run_scenario(loaded, workers=workers, executor=executor_kind, scheduler=scheduler)
    except ExecutorError as exc:
        raise CommandError(f"medcom sweep: {exc}") from None
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
            raise CommandError(f"medcom sweep: cannot write {exc.filename or ''}: {exc.strerror or exc}") from None
        click.echo(f"wrote sweep.json, sweep.txt, report.html and {len(charts)} charts to {out}", err=True)
    sys.exit(EXIT_OK)
