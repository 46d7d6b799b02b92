"""What a planner reads: the headline first (one sentence per variant with its CI, the same in text, HTML and
JSON), what the intervals cover, the glossary, kroner of different years kept apart, readable chart ticks, the
marks of a scenario's keys, and the sensitivity analysis over the ASSUMPTION keys."""

from __future__ import annotations

import json
import textwrap
from html import escape
from pathlib import Path

import pytest
from helpers import EXAMPLES
from helpers.cli import invoke, no_traceback
from helpers.scenarios import SHIPPED, WEEK, scenario_file

from medcom.reports.glossary import glossary
from medcom.reports.headline import headlines
from medcom.reports.plots import FigureFormatter
from medcom.reports.simulate import METRICS, to_json, to_text
from medcom.reports.simulate_html import to_html
from simulator.marks import counts, key_marks

TWELVE = SHIPPED["twelve"]
SMALL = EXAMPLES / "small-scenario.toml"


def _stat(mean: float, low: float, high: float) -> dict:
    return {"mean": mean, "ci95": [low, high]}


def _result(tax_dkk: dict, tax_days: dict, bill_net: dict | None = None, staffing: float = 1_595_616.0) -> dict:
    """A simulation result as ScenarioResult.as_dict() and simulator.bill make it: a base and window-14."""
    metrics = {key: _stat(10.0, 9.0, 11.0) for key in METRICS}
    metrics["completion_tax_dkk"] = _stat(12_871_466, 12_784_440, 12_958_492)
    diff = {key: _stat(0, 0, 0) for key in METRICS}
    diff.update(completion_tax_dkk=tax_dkk, completion_tax_days=tax_days)
    total = {"tax_saved_dkk": _stat(-tax_dkk["mean"], -tax_dkk["ci95"][1], -tax_dkk["ci95"][0]),
             "extra_staffing_dkk": staffing, "net_dkk": bill_net}
    if bill_net is None:
        total["net_not_computed"] = "not computed: the completion tax is in 2016 rates and reception staffing in " \
                                    "2024 prices"
    return {
        "scenario": "discharge-window-12-vs-14", "replications": 20, "seed": 2024, "horizon_days": 364,
        "warmup_days": 28, "cooldown_days": 14, "episodes_simulated": _stat(6_600, 6_550, 6_650),
        "description": "", "horizon_start": "2025-02-03", "completion_tax_rates": "2016 rates", "metrics": metrics,
        "key_marks": {"SOURCE": 3, "ASSUMPTION": 44, "FITTED": 0, "unmarked": 5},
        "completion_tax_dkk_by_municipality": {}, "violations_by_rule": {},
        "variants": {"window-14": {"description": "receptions until 14:00", "completion_tax_rates": "2016 rates",
                                   "metrics": metrics, "completion_tax_dkk_by_municipality": {},
                                   "violations_by_rule": {}}},
        "comparison": {"window-14": {"against": "base", "difference": diff}},
        "bill": {"horizon_days": 364, "prices": {"completion_tax": "2016 rates", "reception": "2024 prices",
                                                 "bed_day": "2016 prices"}, "figures": [],
                 "variants": {"window-14": {"municipality_total": total}}},
    }


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_headline_says_what_the_variant_saves_with_its_interval_and_price_years() -> None:
    result = _result(_stat(-6_467_646, -6_530_859, -6_404_433), _stat(-1_637, -1_653, -1_621))
    (h,) = headlines(result)
    sentence = h["sentence"].replace("\u202f", " ").replace("\u00a0", " ")
    assert sentence.startswith("window-14 (receptions until 14:00): the municipalities pay 6.47 M DKK (2016 rates) "
                               "[6.40; 6.53] less completion tax a year, for 1 637 [1 621; 1 653] fewer tax days")
    assert "the reception costs 1.60 M DKK (2024 prices) a year of staffing" in sentence
    # 2016 and 2024 kroner are never added: no net, and the sentence says why.
    assert "not netted, being in different price years" in sentence and "net for" not in sentence


def test_a_net_is_in_the_headline_only_within_one_price_year() -> None:
    result = _result(_stat(-6_467_646, -6_530_859, -6_404_433), _stat(-1_637, -1_653, -1_621),
                     bill_net=_stat(4_872_030, 4_808_817, 4_935_243))
    result["bill"]["prices"]["completion_tax"] = "2024 rates"
    sentence = headlines(result)[0]["sentence"].replace("\u202f", " ").replace("\u00a0", " ")
    assert "net for the municipalities: +4 872 030 DKK (2024 prices) [4 808 817; 4 935 243] a year" in sentence


def test_an_interval_that_holds_zero_is_no_clear_change() -> None:
    result = _result(_stat(94_848, -14_490, 175_206), _stat(24, -4, 44))
    sentence = headlines(result)[0]["sentence"].replace("\u202f", " ").replace("\u00a0", " ")
    assert "no clear change in completion tax a year: variant − base +94 848 DKK (2016 rates) [-14 490; 175 206]" \
        in sentence and "the intervals hold 0" in sentence


def test_text_html_and_json_print_the_same_headline_first(tmp_path: Path) -> None:
    result = _result(_stat(-6_467_646, -6_530_859, -6_404_433), _stat(-1_637, -1_653, -1_621))
    del result["bill"]  # (a whole bill is simulator.bill's; test_report_formatting prints a real one)
    data = json.loads(to_json(result))
    sentence = data["headlines"][0]["sentence"]
    assert data["headlines"][0]["completion_tax_dkk"] == result["comparison"]["window-14"]["difference"][
        "completion_tax_dkk"]
    text = to_text(result)
    head = text.partition("20 replications, seed")[0]
    assert _flat(sentence) in _flat(head)  # before the tables
    assert "covers only the simulation's own noise over 20 replications" in _flat(head)
    assert "44 keys of the scenario are marked ASSUMPTION and 5 carry no mark, against 3 SOURCE" in _flat(head)
    html = to_html(result, [])
    assert html.index(escape(sentence)) < html.index('<table class="compare"')
    assert escape(data["uncertainty"]) in html


def test_the_glossary_explains_every_term_the_reports_print() -> None:
    result = _result(_stat(-6_467_646, -6_530_859, -6_404_433), _stat(-1_637, -1_653, -1_621))
    del result["bill"]
    terms = glossary(result)
    for term in ("95 % CI", "paired difference (variant − base)", "common random numbers",
                 "completion-tax days (tax days)", "pp", "disputable tax days", "bed-days ready but waiting",
                 "episodes (admitted in horizon)", "rule ids",
                 "2016 rates", "2024 prices", "net", "sensitivity analysis"):
        assert term in terms, term
    assert "simulation noise only" in terms["95 % CI"]
    assert "`medcom rules ID`" in terms["rule ids"]
    episodes = _flat(terms["episodes (admitted in horizon)"].replace("\u202f", " "))
    assert "a 28-day warm-up" in episodes and "a 14-day cool-down" in episodes
    assert "about 6 600 episodes are simulated per replication and 10 counted" in episodes
    # Why tax days and waiting can move apart (the walkthrough's care-plan-cutoff-12 puzzle).
    assert "care-plan-cutoff-12" in terms["bed-days ready but waiting"]
    text, html = to_text(result), to_html(result, [])
    assert "\nterms:\n" in text and '<dl class="glossary" id="glossary">' in html
    assert json.loads(to_json(result))["glossary"] == terms
    # Every metric the tables print is a glossary term (or is explained under one).
    covered = " ".join(terms) + " " + " ".join(terms.values())
    for metric in METRICS.values():
        assert metric.label.split(" (")[0].split(",")[0] in covered, metric.label


def test_share_ticks_have_the_decimals_their_spacing_needs() -> None:
    """The sweep's same-day axis read '1.00 1.00 1.00 0.99 0.99': ticks 0.5 pp apart need a decimal."""
    assert FigureFormatter("share").format_ticks([0.99, 0.995, 1.0]) == ["99.0\u202f%", "99.5\u202f%", "100.0\u202f%"]
    assert FigureFormatter("share", difference=True).format_ticks([-0.002, 0.0, 0.002]) == [
        "-0.2\u202fpp", "0.0\u202fpp", "+0.2\u202fpp"]
    assert FigureFormatter().format_ticks([0, 2_000_000, 4_000_000]) == ["0", "2\u202f000\u202f000",
                                                                         "4\u202f000\u202f000"]
    assert FigureFormatter().format_ticks([0.0, 0.25, 0.5]) == ["0.00", "0.25", "0.50"]
    # Seven-digit kroner ran into each other ("7 500 00010 000 000"): millions from a million up.
    assert FigureFormatter("dkk").format_ticks([-2_500_000, 0, 2_500_000, 5_000_000]) == [
        "-2.5\u202fM", "0.0\u202fM", "2.5\u202fM", "5.0\u202fM"]
    assert FigureFormatter("dkk").format_ticks([0, 50_000, 100_000]) == ["0", "50\u202f000", "100\u202f000"]


def test_key_marks_come_from_each_keys_comment_or_the_block_above() -> None:
    text = textwrap.dedent("""\
        [stay]
        # ASSUMPTION: a guess that covers the key below
        ready_after_median_hours = 72.0
        ready_after_sigma = 0.8
        ready_at_the_earliest_hours = 1.0  # SOURCE: a reference

        # FITTED from a log
        ready_hour_weights = [1, 2]
        [municipality]
        # SOURCE: a block, then a blank line

        ack_delay_hours = 2.5
        preparation_hours = 4.0  # ASSUMPTION: own comment
        """)
    assert key_marks(text) == {"stay.ready_after_median_hours": "ASSUMPTION", "stay.ready_after_sigma": "unmarked",
                               "stay.ready_at_the_earliest_hours": "SOURCE", "stay.ready_hour_weights": "FITTED",
                               "municipality.ack_delay_hours": "unmarked",
                               "municipality.preparation_hours": "ASSUMPTION"}
    shipped = counts(key_marks(TWELVE.read_text(encoding="utf-8")))
    assert shipped["ASSUMPTION"] > 10 * shipped["SOURCE"] > 0


def _sensitivity_scenario(tmp_path: Path) -> Path:
    """The small scenario over a week without its variant: the headline is the base's completion tax."""
    return scenario_file(tmp_path / "week.toml", SMALL, WEEK, variants={})


def test_sensitivity_finds_no_effect_where_there_is_none_and_the_right_direction_where_there_is(
        tmp_path: Path) -> None:
    """The DIS-2 phone call's delay cannot change the completion tax: with common random numbers its effect is
    exactly 0. More admissions a day mean more patients waiting, so more tax: the headline falls at the low
    value and rises at the high one."""
    run = no_traceback(invoke("simulate", _sensitivity_scenario(tmp_path), "--format", "json",
                              "--sensitivity-keys", "hospital.report_phone_after_minutes",
                              "--sensitivity-keys", "admissions.per_day"))
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    s = data["sensitivity"]
    assert s["fraction"] == 0.25 and s["replications"] == 2 and s["prices"] == "2016 rates"
    block = s["headlines"]["base"]
    assert block["nominal"] == data["metrics"]["completion_tax_dkk"]
    rows = {r["key"]: r for r in block["keys"]}
    assert [r["key"] for r in block["keys"]] == ["admissions.per_day", "hospital.report_phone_after_minutes"]
    phone = rows["hospital.report_phone_after_minutes"]
    assert (phone["low"], phone["nominal"], phone["high"]) == (3.75, 5.0, 6.25)
    assert phone["change"] == [0, 0] and phone["swing"] == 0
    per_day = rows["admissions.per_day"]
    assert (per_day["low"], per_day["high"]) == (6.0, 10.0) and per_day["mark"] == "ASSUMPTION"
    assert per_day["change"][0] < 0 < per_day["change"][1]
    assert per_day["settled_by"] == "medcom calibrate fits it from a message log"
    text = no_traceback(invoke("simulate", _sensitivity_scenario(tmp_path), "--sensitivity-keys",
                               "admissions.per_day")).stdout
    assert "Sensitivity to the scenario's assumptions: each key below was set 25 % lower and 25 % higher" in \
        _flat(text) and "the sensitivity analysis below shows which assumptions move the answer most" in _flat(text)


def test_sensitivity_chooses_the_assumption_numbers_and_says_what_it_leaves_out() -> None:
    import tomllib

    from simulator.scenario import load_scenario
    from simulator.sensitivity import choose

    scenario = load_scenario(TWELVE)
    levels, skipped = choose(tomllib.loads(TWELVE.read_text(encoding="utf-8")), scenario.marks)
    chosen = {level.key: level for level in levels}
    assert "stay.ready_after_median_hours" in chosen and "hospital.conference_after_weekdays" not in chosen  # SOURCE
    assert chosen["hospital.phone_when_late_share"].high == 1.0  # 0.85 x 1.25, held at a share's 100 %
    assert chosen["hospital.admission_advice_minutes"].low == [1, 8]  # a range moves as a whole, whole minutes
    assert skipped["municipality.weekend_reception"] == "yes/no, not a number"
    assert "weights" in skipped["stay.ready_hour_weights"]


@pytest.mark.parametrize("args, message", [
    (["--sensitivity-keys", "stay.no_such_key"], "--sensitivity-keys stay.no_such_key: not a key"),
    (["--sensitivity-keys", "run.seed"], "--sensitivity-keys run.seed: not a key"),
    (["--sensitivity", "--sensitivity-range", "1.5"], "--sensitivity-range"),
])
def test_bad_sensitivity_options_are_usage_errors(args: list[str], message: str) -> None:
    run = no_traceback(invoke("simulate", SMALL, *args))
    assert run.exit_code == 2 and message in run.stderr
