"""`medcom replay`: a message log or a timeline through the rules of the agreement."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from medcom.cli.common import (
    _FAIL_ON,
    EXIT_FINDINGS,
    EXIT_OK,
    CommandError,
    _check_scheduler,
    _instant,
    _line_chunks,
    _output_file,
    _write_chunks,
)
from medcom.executors import EXECUTORS, ExecutorError
from medcom.reports.junit import FailOn

PARTITION_MESSAGES_DEFAULT = 20_000  # medcom.replay.partition.PARTITION_MESSAGES (not imported: it loads numpy)
PARTITION_MESSAGES_MAX = 1_000_000_000  # --partition-size at most (numpy's int64 grouping overflowed at 2^63)

@click.command()
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
              help="Processes reading the log, and replaying its partitions, at most (a small OIOXML log is read "
                   "and replayed in this one: faster). The same report whatever the number.")
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
    from medcom.replay.partition import SpoolError, replay_partitioned, workers_for
    from medcom.reports.replay import (
        DEFAULT_POLICY,
        MAX_DRAWINGS,
        EpisodeReports,
        Filters,
        partitioned_report,
        text_lines,
        unknown_rules,
    )
    from medcom.reports.replay import junit_chunks as replay_junit

    _check_scheduler(executor_kind, scheduler)
    _no_such("--rule", "rule id", unknown_rules(rules), show_cpr=True)
    policy = load_policy(policy_file)
    policy_name = str(policy_file) if policy_file else DEFAULT_POLICY
    limits = policy.messages
    read = ReadOptions(limits.max_message_bytes, None, limits.max_timeline_bytes, limits.max_findings_per_file,
                       sent_before_event=False)
    filters = Filters(frozenset(episodes), frozenset(rules), since, until)
    policy_fail = FailOn(fail_on)
    build = EpisodeReports(filters, show_cpr, MAX_DRAWINGS if fmt == "html" else 0)  # html draws timelines
    workers = workers_for([log], workers, partition_size, executor_kind)  # at most --workers: as many as pay
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
            raise CommandError(f"medcom replay: {exc}") from None
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
                _write_chunks(out, replay_junit(report, policy_fail), show_cpr)
            elif fmt == "json":
                _write_chunks(out, report.json_chunks(), show_cpr)
            else:
                _write_chunks(out, _line_chunks(text_lines(report)), show_cpr)
        except SpoolError as exc:  # the report's merge rounds of the temporary files, on a full disk
            raise CommandError(f"medcom replay: {exc}") from None
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
    raise CommandError(text if show_cpr else mask_cprs(text))


def _no_such_episodes(matches: list, wanted: frozenset[str], show_cpr: bool) -> None:
    """--episode values no part of the log has: a usage error. Every wanted name starts as not found with no close
    names, so that a log of no partition at all (an empty folder) refuses a typo as any other log does."""
    from medcom.reports.replay import unknown_episodes

    _no_such("--episode", "episode in this log", unknown_episodes([{w: [] for w in wanted}, *matches]), show_cpr)
