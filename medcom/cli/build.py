"""`medcom build`: the real MedCom messages a timeline describes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from medcom.cli.common import _FORCE, EXIT_FINDINGS, EXIT_OK, CommandError, _output_dir, _own_dir
from medcom.events import FORMATS, WRAPS


@click.command()
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
        raise CommandError(f"medcom build: {plural(read.rejected, 'invalid line')} in {timeline}; nothing written",
                           EXIT_FINDINGS)
    _own_dir(out, "--out", force)
    try:
        result = build_messages(read.events, out, wrap, formats)
    except BuildError as exc:
        raise CommandError(mask_cprs(f"medcom build: {exc}"), EXIT_FINDINGS) from None
    except OSError as exc:
        raise CommandError(f"medcom build: --out {out}: {exc.strerror or exc}") from None
    for note in result.notes:
        click.echo(mask_cprs(f"medcom build: note: {note}"), err=True)
    click.echo(f"wrote {result.messages} messages and {result.sidecar_events} side-car events to {out}", err=True)
    sys.exit(EXIT_OK)
