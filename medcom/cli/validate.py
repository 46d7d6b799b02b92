"""`medcom validate`: messages and timelines against their schemas or profiles and the message rules."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from medcom.cli.common import (
    _EXISTING,
    _FAIL_ON,
    _FORCE,
    EXIT_FINDINGS,
    EXIT_OK,
    CommandError,
    _output_dir,
    _output_file,
    _own_dir,
    _write,
)
from medcom.reports.junit import FailOn


@click.command()
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
        raise CommandError(f"medcom: --suppress: {exc}") from None
    if schemas_dir is not None:
        try:
            check_user_dir(str(schemas_dir))
        except SchemaError as exc:
            raise CommandError(f"medcom: --schemas: {exc}") from None
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
