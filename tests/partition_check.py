"""Every replay the test suite makes is also made in partitions of one group of episodes each, and must give the
same episodes (tests/conftest.py wraps medcom.replay.replay with this check): the partitioning's links, grouping
and whole-log facts are checked against every log the tests replay."""

from __future__ import annotations

import copy
import heapq
from collections.abc import Callable

from medcom.policy import Policy
from medcom.replay import LogFacts, ReplayInput, ReplayResult
from medcom.replay.partition import split
from medcom.reports.replay import EpisodeEntries, Filters, _entries

Replay = Callable[..., ReplayResult]


def checked(original: Replay) -> Replay:
    def replay(inp: ReplayInput, policy: Policy, rules: list | None = None, *,
               log: LogFacts | None = None) -> ReplayResult:
        if rules is not None or log is not None:
            return original(inp, policy, rules, log=log)
        untouched = copy.deepcopy(inp)
        result = original(inp, policy)
        assert_partitions_agree(untouched, policy, result, original)
        return result
    return replay


def assert_partitions_agree(inp: ReplayInput, policy: Policy, whole: ReplayResult, original: Replay) -> None:
    parts, estimate = split(inp, 1)
    log = estimate
    for _ in range(2):
        copies = [copy.deepcopy(part) for part in parts]
        results = [original(part, policy, log=log) for part in copies]
        shown = LogFacts(False, False, None)
        for result in results:
            shown = shown.joined(result.log or shown)
        if shown == log:
            break
        log = shown
    assert shown == (whole.log or shown), "the partitions show other facts of the log than the whole"
    build = EpisodeEntries(Filters(), show_cpr=True)
    merged = list(heapq.merge(*(build(r)[0] for r in results), key=lambda e: e["episode"]))
    expected = _entries(whole, Filters(), True)
    assert [e["episode"] for e in merged] == [e["episode"] for e in expected], "episodes differ in partitions"
    assert merged == expected, "a partitioned replay gives other episode entries than the whole log's"
    found = sorted((f for r in results for f in build(r)[1].findings), key=repr)
    assert found == sorted(whole.findings, key=repr), "a partitioned replay gives other input findings"
    assert sum(p.duplicates for p in copies) == whole.inputs.duplicates - inp.duplicates
