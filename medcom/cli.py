"""The `medcom` command line (CONTRACT.md): validate, replay, simulate, build."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from medcom.business_calendar import TZ
from medcom.policy import PolicyError, load_policy
from medcom.suppress import SuppressionError, Suppressions
from medcom.validate_batch import BatchOptions, run_batch
from medcom.validate_report import BatchResult, to_json, to_junit, to_text

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Group(click.Group):
    """Usage errors exit 2 (click's default too); tool errors print one line and exit 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PolicyError as exc:
            click.echo(f"medcom: policy: {exc}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="medcom")
def main() -> None:
    """MedCom admission and discharge messages: validate, replay the agreement, simulate."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML policy file overriding agreement parameters.")
@click.option("--suppress", "suppress_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Known accepted findings: one RULE or RULE@GLOB a line.")
@click.option("--receipts", "receipts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write a positive or negative receipt here for every message that asks for one.")
@click.option("--by-sender", is_flag=True, help="Add a per-sender table with a red/yellow/green risk category.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
def validate(paths: tuple[Path, ...], fmt: str, out: Path | None, policy_file: Path | None,
             suppress_file: Path | None, receipts_dir: Path | None, by_sender: bool, workers: int) -> None:
    """Validate XML messages (files, directories, .zip) against schema and the M-rules."""
    policy = load_policy(policy_file)
    try:
        suppressions = Suppressions.load(suppress_file) if suppress_file else Suppressions()
    except (SuppressionError, OSError) as exc:
        click.echo(f"medcom: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    options = BatchOptions(policy.messages.max_message_bytes, suppressions, receipts_dir,
                           datetime.now(TZ).replace(microsecond=0))
    batch = BatchResult(list(run_batch(paths, options, workers=workers)))
    risk = policy.risk if by_sender else None
    report = {"json": lambda: to_json(batch, risk), "junit": lambda: to_junit(batch),
              "text": lambda: to_text(batch, risk)}[fmt]()
    if out:
        out.write_text(report + "\n", encoding="utf-8")
    else:
        click.echo(report)
    sys.exit(EXIT_FINDINGS if batch.has_errors else EXIT_OK)


def _not_yet(name: str) -> None:
    click.echo(f"medcom {name}: not yet available in this version", err=True)
    sys.exit(EXIT_USAGE)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def replay(args: tuple[str, ...]) -> None:
    """Replay a message log or timeline through the rules (not yet available)."""
    _not_yet("replay")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def simulate(args: tuple[str, ...]) -> None:
    """Run a planner scenario (not yet available)."""
    _not_yet("simulate")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def build(args: tuple[str, ...]) -> None:
    """Turn a timeline into the XML messages it describes (not yet available)."""
    _not_yet("build")
