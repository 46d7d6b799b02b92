"""A log replayed in partitions (medcom.replay.partition) gives the whole log's report in every format, whatever
the partition size, the executor and the number of workers: partitioned == whole is a property of the one pipeline
(read, relate, partition, replay to episode entries, one summary, renderers), checked over generated logs."""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import EXAMPLES, ROOT, TESTS
from helpers.cli import medcom
from helpers.timelines import clean_episode, write_timeline
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_mixed_log import mixed_log

from medcom.events.build import BuildError, build
from medcom.events.timeline import read_file
from medcom.formats.messages import ReadOptions
from medcom.policy import load_policy
from medcom.replay import grouping, load_log, partition, replay, spool
from medcom.replay.links import Links
from medcom.replay.partition import PartitionedReplay, replay_partitioned
from medcom.reports.replay import (
    MAX_DRAWINGS,
    EpisodeReports,
    Filters,
    ReplayReport,
    partitioned_report,
    text_lines,
    to_json,
    to_junit,
    whole_report,
)
from medcom.reports.replay_html import to_html

READ = ReadOptions(sent_before_event=False)


def formats(report: ReplayReport, source: str = "log") -> dict[str, str]:
    """The report in every format the command writes."""
    return {"json": "".join(report.json_chunks()), "text": "\n".join(text_lines(report)),
            "junit": to_junit(report), "html": to_html(report, source), "fails": str(report.fails())}


def whole_and_parts(path: Path, size: int, workers: int = 1, filters: Filters = Filters(),  # noqa: B008
                    show_cpr: bool = False, executor_kind: str = "local") -> tuple[dict, dict, PartitionedReplay]:
    """Every format of the log's report replayed whole in memory, and replayed in partitions of `size`."""
    policy = load_policy()
    whole = formats(whole_report(replay(load_log([path], READ), policy), filters, show_cpr, policy,
                                 drawings=MAX_DRAWINGS))
    with replay_partitioned([path], policy, READ, EpisodeReports(filters, show_cpr, MAX_DRAWINGS), workers=workers,
                            partition_messages=size, executor_kind=executor_kind) as run:
        parts = formats(partitioned_report(run, show_cpr, policy))
    return whole, parts, run


@pytest.mark.parametrize("size", [1, 4, 20_000])
@pytest.mark.parametrize("log", ["log", "timeline.jsonl", "invalid"])
def test_the_examples_in_partitions(log: str, size: int) -> None:
    whole, parts, run = whole_and_parts(EXAMPLES / log, size)
    assert parts == whole
    assert run.partitions >= 1 and not run.directory.exists()  # the run's files are gone after the report


def test_the_shipped_messages_and_built_logs_in_partitions(tmp_path: Path) -> None:
    for folder in (TESTS / "data" / "fhir", TESTS / "data" / "oioxml"):
        whole, parts, _ = whole_and_parts(folder, 1)
        assert parts == whole
    for formats in ("national", "oioxml"):
        out = tmp_path / formats
        build(read_file(EXAMPLES / "timeline.jsonl").events, out, formats=formats)
        whole, parts, run = whole_and_parts(out, 2)
        assert parts == whole and run.partitions > 1
    mixed_log(tmp_path / "mixed")
    whole, parts, _ = whole_and_parts(tmp_path / "mixed", 1)
    assert parts == whole


def test_filters_and_workers_in_partitions() -> None:
    filters = Filters(frozenset({"E1", "E3"}), frozenset({"CP-1", "M-RECEIPT"}))
    whole, parts, _ = whole_and_parts(EXAMPLES / "log", 2, workers=2, filters=filters, show_cpr=True)
    assert parts == whole


def test_receipts_that_answer_nothing_are_input_findings_in_any_partition(tmp_path: Path) -> None:
    """Issue 20: receipts of letters not in the log made a pseudo-episode "(no episode)" that the summary counted;
    their M-REF findings are input findings, in the whole log's replay and in partitions alike. Issue 23: they
    were all one group, which grew with the log (the receipts of every rejected message: 50,000 in one partition
    of a million-message log); each is now a group of its own, its findings merged in the whole log's order (by
    sending time: zz-1 was sent first, though it comes later in the folder)."""
    out = tmp_path / "log"
    lines = clean_episode("A") + clean_episode("B", admitted="2025-03-24T09:40")
    build(read_file(write_timeline(tmp_path / "t.jsonl", lines)).events, out, formats="oioxml")
    for n, (ref, hour) in enumerate((("NOPE-1", 11), ("NOPE-2", 10), ("NOPE-3", 12))):  # letters not in the log
        (out / f"zz-{n}.xml").write_bytes(_receipt(ref, n, hour))
    whole, parts, run = whole_and_parts(out, 1)
    assert parts == whole and run.partitions == 4  # the patient's two episodes; each unanswered receipt alone
    report = json.loads(parts["json"])
    assert [e["episode"] for e in report["episodes"]] == ["A", "B"] and report["summary"]["episodes"] == 2
    assert [(f["rule"], f["file"].rsplit("/", 1)[-1]) for f in report["input_findings"]] == [
        ("M-REF", "zz-1.xml"), ("M-REF", "zz-0.xml"), ("M-REF", "zz-2.xml")]


def _receipt(ref: str, n: int, hour: int = 10) -> bytes:
    from datetime import datetime

    from medcom.calendar import TZ
    from medcom.formats.oioxml import write

    return write.receipt(positive=True, envelope_id=f"KX{n}", letter_id=f"KX{n}", sent=datetime(2025, 3, 26, hour,
                         tzinfo=TZ), sender_ean="5790000000005", receiver_ean="5790000000012",
                         original_envelope_id=f"EX{n}", original_sender_ean="5790000000012",
                         original_receiver_ean="5790000000005", letters=[(ref, "XD2134C", None, None)])


def test_the_input_findings_of_a_spooled_run_are_on_disk_not_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23: pass 1's input findings (one for about every 13 messages of a generated log, the largest part of
    the command's memory at a million messages) go to a file of the run, not a list: no Finding is held after
    the run but the partitions' own (receipts of no message), the report is the whole log's in every format, and
    the file goes with the run's directory."""
    import gc

    from medcom.findings import Finding

    policy, logs = load_policy(), [EXAMPLES / "invalid", EXAMPLES / "log"]
    with replay_partitioned(logs, policy, READ, EpisodeReports(), partition_messages=1) as run:
        gc.collect()
        held = [o for o in gc.get_objects() if isinstance(o, Finding)]
        assert len(run.findings) > 10 and (run.directory / "findings").is_file()
        assert len(held) == sum(len(part.findings) for part in run.summaries)
        parts = formats(partitioned_report(run, False, policy))
    assert parts == formats(whole_report(replay(load_log(logs, READ), policy), policy=policy))
    assert not run.directory.exists()


def test_a_wrong_estimate_of_the_log_is_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass 1 estimates what the engine must know of the whole log (receipts, phone calls, the first instant);
    the replay may show otherwise (the only receipts in a cancelled episode, the first fact in a corrected
    letter): the partitions are then run again with what they show. Here pass 1 is made to miss the receipts."""
    real = spool.links_of

    def blind(*args: object) -> Links:
        links = real(*args)  # type: ignore[arg-type]
        links.has_receipts = False
        return links

    monkeypatch.setattr(spool, "links_of", blind)
    whole, parts, run = whole_and_parts(EXAMPLES / "log", 2)
    assert parts == whole and run.runs == 2 and run.log.has_receipts


def test_the_report_is_streamed_from_disk(tmp_path: Path) -> None:
    policy = load_policy()
    with replay_partitioned([EXAMPLES / "log"], policy, READ, EpisodeReports(), partition_messages=1) as run:
        report = partitioned_report(run, policy=policy)
        assert report.summary.episodes == 3 and [e.name for e in report.entries()] == ["E1", "E2", "E3"]
        assert sorted(p.name for p in run.directory.iterdir()) == [
            *(f"items-{n:05d}" for n in range(run.partitions)), "partition-findings"]
        assert to_json(report.to_dict()) == "".join(report.json_chunks())


@pytest.mark.parametrize("fmt", ["json", "text", "junit", "html"])
def test_every_format_reads_the_episodes_once(fmt: str) -> None:
    """A partitioned report's episodes are unpickled from disk (merged across partitions) each time they are
    read: every format reads them once (the text table and the HTML index put the later part aside)."""
    policy = load_policy()
    with replay_partitioned([EXAMPLES / "log"], policy, READ, EpisodeReports(drawings=MAX_DRAWINGS),
                            partition_messages=1) as run:
        report = partitioned_report(run, policy=policy)
        reads, read = [], report.read_entries

        def counted():  # type: ignore[no-untyped-def]
            reads.append(1)
            return read()

        report.read_entries = counted
        rendered = {"json": lambda: "".join(report.json_chunks()), "text": lambda: "\n".join(text_lines(report)),
                    "junit": lambda: to_junit(report), "html": lambda: to_html(report, "log")}[fmt]()
    assert len(reads) == 1 and "E3" in rendered


def test_the_command_line_in_partitions_with_progress() -> None:
    one = medcom("replay", str(EXAMPLES / "log"), "--format", "json")
    parts = medcom("replay", str(EXAMPLES / "log"), "--format", "json", "--partition-size", "1", "--workers", "2")
    assert parts.exit_code == one.exit_code and parts.stdout == one.stdout
    assert "replay log: reading: 44/44 documents" in one.stderr and "done in" in one.stderr  # stderr: no terminal
    assert "replaying: 3/3 partitions" in parts.stderr
    text = medcom("replay", str(EXAMPLES / "log"), "--partition-size", "1")
    assert text.stdout == medcom("replay", str(EXAMPLES / "log")).stdout and "E3" in text.stdout


def test_scheduler_needs_the_dask_executor() -> None:
    run = medcom("replay", str(EXAMPLES / "log"), "--scheduler", "tcp://127.0.0.1:1")
    assert run.exit_code == 2 and "--executor dask" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_partitions_on_a_dask_cluster_give_the_same_report() -> None:
    pytest.importorskip("distributed")
    local = medcom("replay", str(EXAMPLES / "log"), "--format", "json")
    dask = medcom("replay", str(EXAMPLES / "log"), "--format", "json", "--executor", "dask", "--workers", "2",
                  "--partition-size", "1")
    assert dask.exit_code == local.exit_code, dask.stderr
    assert dask.stdout == local.stdout


@pytest.mark.slow
def test_a_dask_cluster_checks_the_messages_and_gives_the_same_report(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """On dask the documents are read here and checked on the workers, in batches of a few windows: accepted and
    rejected messages, findings, side-car and their order as when the whole log is read in this process."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(partition, "SOURCES_PER_TASK", 5)
    monkeypatch.setattr(partition, "READ_TASKS_IN_FLIGHT", 3)
    with zipfile.ZipFile(tmp_path / "log.zip", "w") as archive:
        for folder in ("log", "invalid"):
            for path in sorted((EXAMPLES / folder).iterdir()):
                archive.write(path, f"{folder}/{path.name}")
    assert len(zipfile.ZipFile(tmp_path / "log.zip").namelist()) > 3 * 3 * 5  # more than 3 windows
    whole, parts, run = whole_and_parts(tmp_path / "log.zip", 3, workers=2, executor_kind="dask")
    assert parts == whole
    report = json.loads(parts["json"])
    assert report["inputs"]["rejected"] >= len(list((EXAMPLES / "invalid").iterdir())) - 1
    assert run.findings and run.partitions > 1


EVENTS = [line["event"] for line in clean_episode()]


@st.composite
def generated_logs(draw: st.DrawFn) -> list[dict]:
    """Timelines of a few episodes whose relations cross: patients with several episodes (CPR numbers from a
    small pool, spelt with or without a hyphen), events left out, messages sent twice, receipts and
    acknowledgements naming another episode's message or none in the log, corrections, cancelled admissions."""
    lines: list[dict] = []
    names = [f"E{n}" for n in range(draw(st.integers(1, 5)))]
    for n, name in enumerate(names):
        day = 24 + draw(st.integers(0, 3))
        episode = clean_episode(name, admitted=f"2025-03-{day:02d}T0{n % 9}:40")
        kept = draw(st.lists(st.sampled_from(EVENTS), unique=True, max_size=3))  # events left out
        episode = [line for line in episode if line["event"] not in kept or line["event"] == "admitted"]
        cpr = draw(st.sampled_from(["2509479989", "250947-9989", "0101010101", "1204569995"]))
        episode = [{**line, "cpr": cpr} if line["event"] == "admitted" else line for line in episode]
        lines += episode
    ids = [line["id"] for line in lines if "id" in line] + ["NOT-IN-LOG"]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["again", "receipt", "correction", "cancel", "readmission"]))
        line = draw(st.sampled_from(lines))
        name = draw(st.sampled_from(names))
        if kind == "again" and "id" in line:
            lines.append(dict(line))
        elif kind == "receipt":
            lines.append({"at": "2025-03-28T10:00", "episode": name, "event": "receipt_sent",
                          "id": f"R{len(lines)}", "ref": draw(st.sampled_from(ids))})
        elif kind == "correction":
            lines.append({"at": "2025-03-28T11:00", "episode": name, "event": "care_plan_sent",
                          "id": f"C{len(lines)}", "correction_of": draw(st.sampled_from(ids))})
        elif kind == "cancel":
            lines.append({"at": "2025-03-28T12:00", "episode": name, "event": "admission_advice_sent",
                          "id": f"X{len(lines)}", "cancels": f"{name}-ADV"})
        else:  # a planned re-admission a day after the discharges, maybe of the same patient (LEAVE-1 reads both)
            cpr = draw(st.sampled_from(["2509479989", "250947-9989", "0101010101"]))
            lines.append({"at": "2025-03-28T12:00", "episode": f"R{len(lines)}", "event": "admitted", "cpr": cpr,
                          "municipality": "851", "planned": True})
    return lines


@settings(max_examples=30, deadline=None)
@given(generated_logs(), st.integers(1, 8), st.booleans())
def test_partitioned_is_whole_in_every_format(lines: list[dict], size: int, show_cpr: bool) -> None:
    """The property the partitioning rests on: any log, any partition size, the same report in every format as
    the whole log replayed in memory (the pipeline with one partition)."""
    with tempfile.TemporaryDirectory() as tmp:
        whole, parts, _ = whole_and_parts(write_timeline(Path(tmp) / "t.jsonl", lines), size, show_cpr=show_cpr)
    assert parts == whole


@settings(max_examples=12, deadline=None)
@given(generated_logs(), st.integers(1, 8), st.sampled_from(["oioxml", "national"]), st.booleans())
def test_partitioned_is_whole_for_the_messages_of_generated_logs(lines: list[dict], size: int, formats: str,
                                                                 sidecar: bool) -> None:
    """The same property over the real messages `medcom build` writes for a generated timeline (with its side-car,
    or without: the messages alone): what relates messages (their patient's CPR, episode-of-care ids and the
    side-car names standing for them, envelopes, receipts, corrections) must keep whatever a rule reads together
    in one partition."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log"
        try:
            build(read_file(write_timeline(Path(tmp) / "t.jsonl", lines)).events, log, formats=formats)
        except BuildError:
            assume(False)  # a timeline the formats cannot say (build tells which event and why)
        if not sidecar:
            (log / "events.jsonl").unlink()
        whole, parts, _ = whole_and_parts(log, size)
    assert parts == whole


def test_the_html_page_draws_the_first_timelines_from_any_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A partition's entries carry drawings for its first few episodes only (the page draws the first
    MAX_TIMELINES names overall, which are among each partition's first): the page is the whole log's."""
    from medcom.reports import replay_html

    monkeypatch.setattr(replay_html, "MAX_TIMELINES", 2)
    policy = load_policy()
    whole = to_html(whole_report(replay(load_log([EXAMPLES / "log"], READ), policy), policy=policy, drawings=2), "l")
    with replay_partitioned([EXAMPLES / "log"], policy, READ, EpisodeReports(drawings=2),
                            partition_messages=1) as run:
        assert run.partitions == 3
        parts = to_html(partitioned_report(run, policy=policy), "l")
    assert parts == whole and parts.count('<svg class="timeline"') == 2


def test_calibrate_fits_the_stays_of_the_partitions_as_of_the_whole_log() -> None:
    """calibrate replays in partitions and fits the stays each partition gives: the fit of the whole log."""
    from simulator.calibrate import EpisodeStays, fit, fit_stays, to_toml

    policy = load_policy()
    base = tomllib.loads((ROOT / "simulator" / "scenarios" / "nordjylland-2024.toml").read_text(encoding="utf-8"))
    names = {"log": "log", "base_name": "base", "name": "fitted"}
    result = replay(load_log([EXAMPLES / "log"], READ), policy)
    whole = fit([ep for n, ep in sorted(result.episodes.items()) if n not in result.cancelled], policy, base, **names)
    with replay_partitioned([EXAMPLES / "log"], policy, READ, EpisodeStays(), partition_messages=1) as run:
        assert run.partitions == 3 and sum(run.summaries) == 3
        parts = fit_stays(run.merged_items(key=lambda row: row.name), policy, base, **names)
    assert to_toml(parts) == to_toml(whole)


def _refused(*args: object, **kwargs: object) -> None:
    raise AssertionError("spooled or grouped")


def test_a_log_of_one_partition_read_here_is_replayed_from_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """A log within one partition, read in this process, is neither spooled nor grouped (no pickling, no link
    keys, no numpy or scipy): the whole log's report all the same."""
    monkeypatch.setattr(spool, "Spool", _refused)
    monkeypatch.setattr(grouping, "group", _refused)
    monkeypatch.setattr(partition, "group", _refused, raising=False)
    whole, parts, run = whole_and_parts(EXAMPLES / "log", 20_000)
    assert parts == whole and run.partitions == 1 and run.runs == 1


def test_a_log_of_one_partition_read_by_workers_is_not_grouped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read by worker processes, a log within one partition is spooled but not grouped or routed: its spool is
    the partition."""
    monkeypatch.setattr(grouping, "group", _refused)
    monkeypatch.setattr(partition, "group", _refused, raising=False)
    monkeypatch.setattr(spool, "route", _refused)
    monkeypatch.setattr(partition, "route", _refused, raising=False)
    whole, parts, run = whole_and_parts(EXAMPLES / "log", 20_000, workers=2)
    assert parts == whole and run.partitions == 1


class WhereItRuns:
    """A partition's build that says which process replayed it (picklable: it runs in the workers)."""

    def __call__(self, result: object) -> tuple[list[object], int]:
        return [], os.getpid()


def _workers() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


def test_the_workers_that_read_the_log_replay_its_partitions() -> None:
    """Issue 23: pass 1 and pass 2 each started a pool of spawned workers, and every worker paid its start-up twice
    (imports; for FHIR the IG packages, the compiled profiles, the remembered walks). One pool serves both."""
    before, readers = _workers(), set()
    with replay_partitioned([EXAMPLES / "log"], load_policy(), READ, WhereItRuns(), workers=2, partition_messages=1,
                            on_document=lambda _: readers.update(_workers() - before)) as run:
        assert run.partitions == 3
        replayers = set(run.summaries)
    assert readers and replayers <= readers, (readers, replayers)
    assert _workers() - before == set()  # ended with the run


def test_a_log_of_one_partitions_worth_is_split_among_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23: a log within one partition (8,008 national messages) was replayed by the command alone while both
    workers idled, and one of 2.4 partitions' worth as 1 + 1 + 0.4 on two workers. With several workers the log is
    split into a multiple of their number of partitions of about one size (here: examples/log, 45 messages and a
    side-car, with `SPLIT_MIN` lowered to 1), each replayed by a worker; same report."""
    monkeypatch.setattr(partition, "SPLIT_MIN", 1)
    with replay_partitioned([EXAMPLES / "log"], load_policy(), READ, WhereItRuns(), workers=2) as run:
        assert run.partitions == 2
        assert len(set(run.summaries)) == 2 and os.getpid() not in run.summaries
    whole, parts, _ = whole_and_parts(EXAMPLES / "log", 20_000, workers=2)
    assert parts == whole


@pytest.mark.parametrize(("items", "size", "workers", "aim"), [
    (48_000, 20_000, 1, 20_000),  # one worker: the size asked for
    (48_000, 20_000, 2, 12_000),  # 2.4 partitions' worth: 4 of 12,000
    (40_000, 20_000, 2, 20_000),  # 2 of 20,000: already even
    (9_000, 20_000, 2, 4_500),  # one partition's worth: one a worker
    (3_000, 20_000, 2, 20_000),  # too small to split: one partition
    (100_001, 20_000, 4, 12_501),  # 6 partitions' worth: 8 on four workers
])
def test_the_partition_size_evens_the_workers_out(items: int, size: int, workers: int, aim: int) -> None:
    assert partition.partition_size(items, size, workers) == aim


def test_the_workers_write_their_partitions_items_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23: each partition's report entries came back to the command, which unpickled them, pickled them again
    into the run's file, and held a window of partitions' worth of them (14.6 MiB of 35.6 at its high point: 100,002
    OIOXML messages, two workers). The workers write them; the outcomes the command gets carry none."""
    from medcom import executors

    got: list[object] = []
    real = executors.LocalExecutor.map

    def seen(self: executors.LocalExecutor, *args: Any, **kwargs: Any) -> Iterator[object]:
        for result in real(self, *args, **kwargs):
            got.append(result)
            yield result

    monkeypatch.setattr(executors.LocalExecutor, "map", seen)
    whole, parts, run = whole_and_parts(EXAMPLES / "log", 2, workers=2)
    outcomes = [r for r in got if isinstance(r, partition.PartitionOutcome)]
    assert run.partitions > 1 and len(outcomes) == run.partitions
    assert all(outcome.items == [] for outcome in outcomes)
    assert parts == whole


def test_the_partitions_input_findings_wait_for_the_report_on_disk() -> None:
    """Issue 23: the command held every partition's input findings (a receipt of a message not in the log: M-REF)
    until the report, about 20 bytes a message of the log: what still grew in its memory at two million messages
    (tracemalloc, 100,002 OIOXML messages: 3,251 of them, 2.2 MiB). Each partition's now go to a file of the run as
    they come, and the report reads them back merged in the whole log's order."""
    policy = load_policy()
    folder = TESTS / "data" / "oioxml"
    whole = whole_report(replay(load_log([folder], READ), policy), policy=policy)
    with replay_partitioned([folder], policy, READ, EpisodeReports(), partition_messages=1) as run:
        assert sum(len(part.findings) for part in run.summaries) == 5
        assert all(isinstance(part.findings, spool.Stretch) for part in run.summaries)
        assert list(partitioned_report(run, policy=policy).findings) == list(whole.findings)


@pytest.mark.parametrize("when", ["on_partitions", "on_partition"])
def test_an_interrupted_run_ends_its_workers_and_removes_its_files(when: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers now live from pass 1 to the end of pass 2: Ctrl-C between the passes (no map running) or
    during pass 2 still ends every one of them, and the temporary files (patients' messages) are removed."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before, seen = _workers(), set()

    def stop(_: int) -> None:
        seen.update(_workers() - before)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replay_partitioned([EXAMPLES / "log"], load_policy(), READ, EpisodeReports(), workers=2,
                           partition_messages=1, **{when: stop})  # type: ignore[arg-type]
    assert seen  # the workers were alive when it came
    assert _workers() - before == set() and _left_in(tmp_path) == []


def _left_in(directory: Path) -> list[Path]:
    """What a run left in its temporary directory, but for multiprocessing's own folder once emptied (the fork
    server's socket, removed when the server ends; the folder itself goes when this process ends)."""
    return [p for p in directory.iterdir() if not (p.name.startswith("pymp-") and not any(p.iterdir()))]


def test_a_log_of_one_partition_read_here_imports_neither_numpy_nor_scipy() -> None:
    """Their imports cost about a third of a second of CPU, a command's whole start-up on a small log."""
    import subprocess
    import sys

    code = ("import sys\nfrom medcom.cli import main\ntry:\n    main(['replay', sys.argv[1], '--format', 'json'])\n"
            "except SystemExit:\n    pass\nprint(sorted({'numpy', 'scipy'} & set(sys.modules)), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "log")], capture_output=True, text=True,
                          timeout=120)
    assert done.stderr.rstrip().splitlines()[-1] == "[]", done.stderr[-2000:]


def _oioxml_log(folder: Path) -> Path:
    """The example log's OIOXML documents and its side-car: a small log with no FHIR."""
    folder.mkdir()
    for path in [*EXAMPLES.joinpath("log").glob("*.xml"), EXAMPLES / "log" / "events.jsonl"]:
        folder.joinpath(path.name).write_bytes(path.read_bytes())
    return folder


def test_a_small_oioxml_log_is_replayed_in_this_process_whatever_workers(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: `--workers 2` started a fork server and two workers for a log one process replays faster (stop 33:
    # the 5,012-message OIOXML log 1.28 s against 1.06 s with one worker, 1.5 times the CPU).
    log = _oioxml_log(tmp_path / "log")
    asked: list[int] = []
    real = partition.replay_partitioned

    def seen(*args: Any, **kwargs: Any) -> PartitionedReplay:
        asked.append(kwargs["workers"])
        return real(*args, **kwargs)

    monkeypatch.setattr(partition, "replay_partitioned", seen)
    one = medcom("replay", str(log), "--format", "json")
    two = medcom("replay", str(log), "--format", "json", "--workers", "2")
    assert asked == [1, 1]
    assert two.exit_code == one.exit_code and two.stdout == one.stdout


def test_workers_are_kept_where_they_may_pay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _oioxml_log(tmp_path / "log")
    assert partition.workers_for([log], 2, 20_000) == 1
    assert partition.workers_for([log], 2, 20_000, "dask") == 2  # a cluster asked for by name
    assert partition.workers_for([log], 2, 1) == 2  # more than one partition to replay
    assert partition.workers_for([EXAMPLES / "log"], 2, 20_000) == 2  # FHIR: its reading pays for workers
    timeline = tmp_path / "t.jsonl"
    timeline.write_bytes(b" " * (6 * partition.TIMELINE_LINE_BYTES))
    assert partition.workers_for([timeline], 2, 5) == 2  # a timeline that may hold more lines than a partition
    timeline.write_bytes(b" " * (5 * partition.TIMELINE_LINE_BYTES))
    assert partition.workers_for([timeline], 2, 5) == 1
    monkeypatch.setattr(partition, "SMALL_LOG_DOCUMENTS", 5)
    assert partition.workers_for([log], 2, 20_000) == 2  # more documents than a small log's
