"""Grouping on disk (medcom.replay.links, grouping): keys beyond a buffer go to files by their key's bits, and the
groups and partitions are exactly those of a plain union-find over every key in memory, whatever the buffer, the
key values (spread over the files, or all in one file split to its last level) and the file boundaries."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from helpers.timelines import write_timeline
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_partitioned_replay import EXAMPLES, READ, generated_logs, whole_and_parts

from medcom.events.build import BuildError, build
from medcom.events.timeline import read_file
from medcom.policy import load_policy
from medcom.replay import grouping, links, partition
from medcom.replay.grouping import group, pack
from medcom.replay.links import Links, LinkTable
from medcom.reports.replay import EpisodeReports

ITEMS = st.lists(st.lists(st.integers(1, 12), max_size=4), max_size=40)  # items' keys (a small space: they repeat)


real_write = links.write_buckets
real_in_memory = partition._replay_in_memory


def spread(key: int) -> int:
    """A small key as a 64-bit number with all its bits used (as the hashed keys are): files by every bit."""
    value = (key * 0x9E3779B97F4A7C15) & (2**64 - 1)
    return value - 2**64 if value >= 2**63 else value


def expected_groups(items: list) -> list[int]:
    """A plain union-find: items sharing a key together; each item's group named by its least item."""
    parent = list(range(len(items)))

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    def join(a: int, b: int) -> None:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)

    owner: dict[int, int] = {}
    for node, keys in enumerate(items):
        for key in keys:
            join(node, owner.setdefault(key, node))
    return [root(i) for i in range(len(items))]


def table_of(items: list, key=int, **kwargs) -> LinkTable:
    table = LinkTable(**kwargs)
    for keys in items:
        table.add(Links(keys=[key(k) for k in sorted(set(keys))]))
    return table


def expected_partitions(groups: list[int], size: int) -> list[int]:
    """Groups in the order of their first item, cut into partitions of about `size` items, numbered from 0."""
    sizes: dict[int, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    before, slot_of = 0, {}
    for g in sorted(sizes):
        slot_of[g] = before // size
        before += sizes[g]
    numbers = {slot: i for i, slot in enumerate(sorted(set(slot_of.values())))}
    return [numbers[slot_of[g]] for g in groups]


@settings(max_examples=150, deadline=None)
@given(ITEMS, st.sampled_from([1, 2, 3, 7, 1000]), st.booleans(), st.integers(1, 9))
def test_groups_on_disk_are_those_of_a_union_find_in_memory(tmp_path_factory: pytest.TempPathFactory, items: list,
                                                           buffer: int, spread_keys: bool, size: int) -> None:
    directory = tmp_path_factory.mktemp("links")
    table = table_of(items, spread if spread_keys else int, directory=directory, buffer=buffer)
    spilled = bool(table.buckets)
    labels = group(table)
    expected = expected_groups(items)
    assert labels.tolist() == expected
    assert pack(labels, size).tolist() == expected_partitions(expected, size)
    assert not list(directory.iterdir())  # the files are read and gone
    if buffer == 1 and any(items):
        assert spilled


def test_a_key_shared_only_across_files_and_memory_joins_its_items(tmp_path: Path) -> None:
    """Items 0 and 5 share key 99 only: item 0's entry is in a file (the buffer of 2 filled), item 5's still in
    memory when grouping starts. Wrong, they would be groups of their own."""
    items = [[99, 1], [2], [4], [7], [3], [99]]
    table = table_of(items, spread, directory=tmp_path, buffer=2)
    assert table.buckets and len(table.keys)  # some on disk, some in memory
    labels = group(table).tolist()
    assert labels == [0, 1, 2, 3, 4, 0] == expected_groups(items)


def test_a_file_past_the_buffer_is_split_by_the_keys_next_bits(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys that share their top bits fill one file past the buffer: it is split (and its parts read) rather
    than read whole; the groups are those of memory."""
    read_sizes: list[int] = []
    real = grouping._join

    def join(entries: np.ndarray, *args: object) -> None:
        read_sizes.append(len(entries))
        real(entries, *args)

    monkeypatch.setattr(grouping, "_join", join)
    items = [[k, k + 1] for k in range(1, 60, 2)] + [[k] for k in range(1, 60, 7)]
    table = table_of(items, lambda k: k << 40, directory=tmp_path, buffer=8)  # top 24 bits 0: one file
    assert table.buckets == {"00"}
    assert group(table).tolist() == expected_groups(items)
    assert max(read_sizes) <= 8 and len(read_sizes) > 1


def test_a_table_held_in_memory_groups_as_the_union_find_does() -> None:
    items = [[1, 2], [2, 3], [5], [], [9], [5, 3]]
    assert group(table_of(items)).tolist() == expected_groups(items) == [0, 0, 0, 3, 4, 0]


@settings(max_examples=10, deadline=None)
@given(generated_logs(), st.integers(1, 8), st.sampled_from(["oioxml", "national"]), st.sampled_from([1, 2, 7]))
def test_partitioned_is_whole_with_the_keys_on_disk(lines: list[dict], size: int, formats: str, buffer: int) -> None:
    """partitioned == whole (test_partitioned_replay's property over real messages) with a buffer of a few link
    keys: every key goes through the files, split by their bits, and the report is still the whole log's."""
    written: list[str] = []
    in_memory: list[bool] = []  # a log of one partition is replayed from memory: no keys, nothing to group

    def counted(*args: object) -> list[str]:
        written.extend(names := real_write(*args))
        return names

    def from_memory(*args: object) -> None:
        in_memory.append(True)
        real_in_memory(*args)

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        log = Path(tmp) / "log"
        try:
            build(read_file(write_timeline(Path(tmp) / "t.jsonl", lines)).events, log, formats=formats)
        except BuildError:
            assume(False)
        patch.setattr(links, "LINK_BUFFER", buffer)
        patch.setattr(links, "write_buckets", counted)
        patch.setattr(partition, "_replay_in_memory", from_memory)
        whole, parts, _ = whole_and_parts(log, size)
    assert parts == whole
    assert bool(written) != bool(in_memory)  # grouped: its keys went through the files


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_the_key_files_are_gone_after_an_interrupted_or_failed_grouping(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       stop: BaseException) -> None:
    """The key files hold hashes of CPR numbers: Ctrl-C or a full disk while they are on disk leaves none (the
    run's directory goes, as the spool's does)."""
    seen: list[str] = []

    def interrupted(entries: np.ndarray, parent: np.ndarray) -> None:
        seen.extend(p.name for p in Path(tempfile.gettempdir()).glob("medcom-replay-*/links-*"))
        raise stop

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(links, "LINK_BUFFER", 2)
    monkeypatch.setattr(grouping, "_join", interrupted)
    with pytest.raises((KeyboardInterrupt, partition.SpoolError)):
        partition.replay_partitioned([EXAMPLES / "log"], load_policy(), READ, EpisodeReports(), partition_messages=1)
    assert seen and not list(tmp_path.iterdir())
