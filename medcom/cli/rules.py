"""`medcom rules [ID]`: every rule id medcom reports, or what one checks, where it comes from, the values in force
under `--policy FILE` and an example violation (as `ruff rule` explains its codes)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("rules")
@click.argument("rule_id", required=False, metavar="[ID]")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="markdown: docs/RULES.md, the whole catalogue.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML policy file: the values in force shown, and the example replayed, under it.")
def rules(rule_id: str | None, fmt: str, policy_file: Path | None) -> None:
    """List every rule id, or explain ID: what it checks, its source, the values in force, an example.

    \b
    Examples:
      medcom rules CP-1
      medcom rules --format json --policy examples/policy.toml

    \b
    Exit codes: 0 done, 2 an unknown rule id or option.
    """
    # here, not at import: the policy loads the holiday calendars, the examples the replay (`medcom --help` fast)
    from medcom.catalogue import RULES, close_matches, rule
    from medcom.cli.common import _reveal_cprs
    from medcom.policy import load_policy
    from medcom.reports.rules import close_match_text, explain_text, list_text, markdown, rules_json

    # What this prints is medcom's own catalogue, never input: its examples use MedCom's test CPR number, shown as
    # written so that an example timeline can be copied and replayed (docs/RULES.md is this output).
    _reveal_cprs()
    chosen = RULES
    if rule_id is not None:
        try:
            chosen = (rule(rule_id),)
        except KeyError:
            raise click.UsageError(close_match_text(rule_id, close_matches(rule_id))) from None
    if fmt == "markdown":
        if rule_id is not None:
            raise click.UsageError("--format markdown writes the whole catalogue: give no ID")
        click.echo(markdown(), nl=False)
        return
    policy = load_policy(policy_file) if policy_file else load_policy()
    if fmt == "json":
        click.echo(rules_json(chosen, policy))
    elif rule_id is None:
        click.echo(list_text(chosen), nl=False)
    else:
        click.echo(explain_text(chosen[0], policy), nl=False)
