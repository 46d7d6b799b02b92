"""The `medcom` command line (CONTRACT.md): validate, replay, simulate, build."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from medcom.policy import PolicyError, load_policy
from medcom.validate_report import BatchResult, check_inputs, summarise, to_json, to_text

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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML policy file overriding agreement parameters.")
def validate(paths: tuple[Path, ...], fmt: str, out: Path | None, policy_file: Path | None) -> None:
    """Validate XML messages (files, directories, .zip) against schema and the M-rules."""
    policy = load_policy(policy_file)
    batch = BatchResult()
    for checked in check_inputs(paths, policy.messages.max_message_bytes):
        batch.documents.append(summarise(checked))
    report = to_json(batch) if fmt == "json" else to_text(batch)
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
