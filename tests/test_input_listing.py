"""A log folder's listing (medcom.formats.inputs): files in name order, then subdirectories, as os.walk finds
them; a folder of more names than `LISTING_BUFFER` is sorted in runs on disk (an anonymous temporary file), so
the command does not hold every name of a million-message folder (about 97 bytes a file)."""

from __future__ import annotations

import os
import sys
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medcom.formats import inputs
from medcom.formats.inputs import WALKED_SUFFIXES, iter_sources


def walked_as_before(directory: str) -> list[str]:
    """The oracle: the listing as os.walk gives it, every name of a folder sorted in memory."""
    out = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        out += [os.path.join(root, name) for name in sorted(files)
                if name.lower().endswith(WALKED_SUFFIXES) and not name.startswith(".")]
    return out


NAMES = st.text(st.sampled_from("aBz09_-. æøÅ\u00e9\u4e2d"), min_size=1, max_size=6)
SUFFIXES = st.sampled_from([".xml", ".XML", ".json", ".jsonl", ".txt", ""])
FOLDERS = ["", "sub", "sub/deeper", "Sub", "zz"]
# A file's name is never "." or ".." (the folder itself, its parent) nor a folder's name at the top.
TREES = st.lists(st.tuples(st.sampled_from(FOLDERS), NAMES, SUFFIXES).filter(
    lambda t: t[1] + t[2] not in {".", "..", *FOLDERS}), max_size=40)


@settings(max_examples=60, deadline=None)
@given(TREES, st.sampled_from([1, 2, 3, 1000]), st.booleans())
def test_the_listing_is_os_walks_whatever_the_buffer(tree: list, buffer: int, odd_bytes: bool) -> None:
    """Any names (non-ASCII, upper-case suffixes, dot files, other files, subdirectories, a name that is not
    UTF-8, a link to a directory): the same sources in the same order, whether the names fit the buffer or go
    through sorted runs on disk."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as monkeypatch:
        for folder, name, suffix in tree:
            (Path(tmp) / folder).mkdir(parents=True, exist_ok=True)
            (Path(tmp) / folder / (name + suffix)).write_bytes(b"")
        if odd_bytes:  # a name that is not UTF-8 (Python keeps its bytes as lone surrogates)
            (Path(tmp) / os.fsdecode(b"caf\xe9.xml")).write_bytes(b"")
            os.symlink(tmp, Path(tmp) / "link-to-top")  # not followed
        monkeypatch.setattr(inputs, "LISTING_BUFFER", buffer)
        assert [s.path for s in iter_sources([tmp])] == walked_as_before(tmp)


def many_files(directory: Path, count: int) -> None:
    for n in range(count):
        os.close(os.open(directory / f"B{n * 7919 % count:07d}-0001-admission_advice_sent.xml",
                         os.O_CREAT | os.O_WRONLY))


def test_a_large_folder_is_listed_without_holding_its_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """20,000 names with a buffer of 2,000: the walk's peak of Python memory stays near the buffer's and the runs'
    read blocks (the names of every file held and sorted cost about 2.5 MB here), and the order is os.walk's."""
    many_files(tmp_path, 20_000)
    monkeypatch.setattr(inputs, "LISTING_BUFFER", 2_000, raising=False)
    monkeypatch.setattr(inputs, "_RUN_READ", 4_096, raising=False)
    tracemalloc.start()
    try:
        count, previous = 0, ""
        for source in iter_sources([tmp_path]):
            assert source.path > previous
            count, previous = count + 1, source.path
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 20_000 and peak < 1_000_000, peak


def test_a_run_goes_to_disk_without_copies_of_its_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A buffer of names is written to its run a few at a time: joined and encoded whole, the run was held three
    times over at each spill (a 300,006-message folder's listing peaked at 19.6 MiB, its buffer's names 12.6)."""
    many_files(tmp_path, 30_000)
    monkeypatch.setattr(inputs, "LISTING_BUFFER", 10_000, raising=False)
    monkeypatch.setattr(inputs, "_SPILL_WRITE", 256, raising=False)
    held = sum(sys.getsizeof(name) + 8 for name in os.listdir(tmp_path)[:10_000])  # the buffer's names, listed
    tracemalloc.start()
    try:
        assert sum(1 for _ in iter_sources([tmp_path])) == 30_000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.25 * held, (peak, held)


def test_a_disk_that_refuses_the_runs_keeps_the_names_in_memory(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    many_files(tmp_path, 50)

    def refused(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(inputs, "LISTING_BUFFER", 4)
    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    assert [s.path for s in iter_sources([tmp_path])] == walked_as_before(str(tmp_path))


@settings(max_examples=40, deadline=None)
@given(TREES, st.integers(1, 50), st.booleans())
def test_a_sample_is_documents_of_the_walk(tree: list, limit: int, zipped: bool) -> None:
    """`sample_sources` (a guess about a log: which warm-up its workers get) finds only documents the walk finds,
    at most `limit`, and at least one if there is one, without listing a whole folder."""
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        for folder, name, suffix in tree:
            (Path(tmp) / folder).mkdir(parents=True, exist_ok=True)
            (Path(tmp) / folder / (name + suffix)).write_bytes(b"")
        if zipped:
            with zipfile.ZipFile(Path(tmp) / "sub.zip", "w") as archive:
                archive.writestr("in/a.xml", b"<a/>")
                archive.writestr("in/", b"")
                archive.writestr("b.json", b"{}")
        key = lambda s: (s.path, s.member, s.index)  # noqa: E731
        walked = {key(s) for s in iter_sources([tmp])}
        sample = inputs.sample_sources([tmp], limit)
        assert len(sample) <= limit and len({key(s) for s in sample}) == len(sample)
        assert {key(s) for s in sample} <= walked
        assert bool(sample) == bool(walked)


def test_a_documents_head_is_its_first_bytes_or_nothing(tmp_path: Path) -> None:
    import zipfile

    (tmp_path / "a.json").write_bytes(b'{"resourceType": "Bundle"}' * 100)
    with zipfile.ZipFile(tmp_path / "b.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("m.xml", b"<Emessage/>" * 1000)
    os.mkfifo(tmp_path / "pipe.xml")  # never opened: reading it would block
    heads = {s.name.rsplit("/", 1)[-1]: inputs.head(s, 16) for s in inputs.sample_sources([tmp_path], 10)}
    assert heads == {"a.json": b'{"resourceType":', "b.zip!m.xml": b"<Emessage/><Emes", "pipe.xml": b""}
