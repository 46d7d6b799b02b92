"""The replay page of a large log stays one a browser opens: details (a section, a timeline for the first few) for
the first `MAX_SECTIONS` episodes in name order, an index row for every episode (issue 22: a million messages
would make a page of about 130 MB with a section for each of 71,000 episodes: 6.2 MB at 20,006 messages)."""

from __future__ import annotations

import re

import pytest
from helpers import EXAMPLES

from medcom.formats.messages import ReadOptions
from medcom.policy import load_policy
from medcom.replay import load_log, replay
from medcom.reports import replay_html
from medcom.reports.replay import MAX_DRAWINGS, whole_report
from medcom.reports.replay_html import to_html

READ = ReadOptions(sent_before_event=False)


def _page() -> str:
    policy = load_policy()
    return to_html(whole_report(replay(load_log([EXAMPLES / "log"], READ), policy), policy=policy,
                                drawings=MAX_DRAWINGS), "log")


def test_details_for_the_first_episodes_and_every_episode_in_the_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay_html, "MAX_SECTIONS", 2)
    page = _page()
    rows = re.findall(r'<tr data-episode="([^"]+)"><td[^>]*>(<a href="#([^"]+)">)?', page)
    sections = re.findall(r'<section class="episode" id="([^"]+)" data-episode="([^"]+)"', page)
    assert [name for name, *_ in rows] == ["E1", "E2", "E3"]  # the index: every episode
    assert sections == [("episode-0", "E1"), ("episode-1", "E2")]  # details: the first two
    assert [target for *_, target in rows] == ["episode-0", "episode-1", ""]  # every link has its section
    assert 'id="first-sections"' in page and "first 2 of 3 episodes" in page
    assert "E3" in page.split('id="first-sections"')[0]


def test_a_log_within_the_limit_has_every_section() -> None:
    page = _page()
    assert page.count('<section class="episode"') == 3 and 'id="first-sections"' not in page
