"""What a planner reads: one number formatter, bounded intervals, units on every figure, model checks apart."""

from __future__ import annotations

import re

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pytest
from helpers import ROOT

from medcom.reports.formatting import SEPARATOR, auto, decimals_for, estimate, number, percent, points
from medcom.reports.html_page import num
from medcom.reports.plots import figures_axis, tax_days_per_week_figure
from medcom.reports.simulate import label, per_horizon, to_text
from medcom.reports.simulate_html import to_html
from simulator.bill import bill
from simulator.run import run_scenario
from simulator.scenario import load_scenario, with_run
from simulator.statistics import summary

S = SEPARATOR


def test_numbers_have_one_thousands_separator_and_never_minus_zero() -> None:
    assert number(12780768) == f"12{S}780{S}768"
    assert num(12780768) == number(12780768)  # the HTML pages use the same formatter
    assert number(-0.0004, 3) == "0.000" and number(-0.4) == "0" and number(-0.0) == "0"
    assert number(-1234.5, 1) == f"-1{S}234.5"
    assert auto(0.6667) == "0.667" and auto(2.5) == "2.50" and auto(12) == "12"


def test_a_mean_and_its_interval_share_one_precision() -> None:
    assert estimate({"mean": 1.0, "ci95": [1.0, 1.0]}) == "1 [1; 1]"
    assert estimate({"mean": 0.667, "ci95": [0.0, 2.1]}) == "0.67 [0.00; 2.10]"
    assert estimate({"mean": 12.0, "ci95": [11.4, 12.6]}) == "12.0 [11.4; 12.6]"
    assert estimate({"mean": 3268.4, "ci95": [2836.2, 3700.9]}) == f"3{S}268 [2{S}836; 3{S}701]"
    assert decimals_for(150.5, 149.2) == 0


def test_shares_print_as_percentages_and_their_differences_as_points() -> None:
    assert percent(0.9963) == f"99.6{S}%"
    assert estimate({"mean": 0.9963, "ci95": [0.99, 1.0]}, "share") == f"99.6{S}% [99.0{S}%; 100.0{S}%]"
    assert points(0.004) == f"+0.4{S}pp" and points(-0.0001) == f"0.0{S}pp"
    assert estimate({"mean": -0.002, "ci95": [-0.004, 0.0]}, "share", difference=True) \
        == f"-0.2{S}pp [-0.4{S}pp; 0.0{S}pp]"


def test_intervals_of_counts_and_shares_are_clipped_and_say_so() -> None:
    """'disputable days 0.667 [-0.768; 2.1]' as the issue saw it: now clipped at 0."""
    stat = summary([0, 0, 2], 0.0)
    assert stat["ci95"][0] == 0 and stat["ci95_clipped"] is True
    assert estimate(stat) == "0.67 [0.00; 3.54]"
    share = summary([0.99, 1.0, 1.0], 0.0, 1.0)
    assert share["ci95"][1] == 1.0 and share["ci95_clipped"] is True
    assert "ci95_clipped" not in summary([5, 6, 7], 0.0)


def test_figures_say_per_year_or_per_horizon_and_dkk_names_its_rates() -> None:
    assert per_horizon(364) == "per year" and per_horizon(21) == "per 21 days"
    assert label("completion_tax_dkk", 364, "2016 rates") == "completion tax, DKK (2016 rates) per year"
    assert label("acks_same_day_share", 364) == "same-day acknowledgements"  # a share, not a total


@pytest.fixture(scope="module")
def twelve_result():
    s = load_scenario(ROOT / "scenarios" / "discharge-window-12-vs-14.toml")
    result = run_scenario(with_run(s, warmup_days=7, horizon_days=14, cooldown_days=0, replications=3),
                          progress=False)
    data = result.as_dict()
    data["bill"] = bill(result)
    return result, data


def test_the_simulate_text_a_planner_reads(twelve_result) -> None:
    _, data = twelve_result
    text = to_text(data)
    planner, checks = text.split("model checks (base)")
    assert "(L)" not in planner and "(λW)" not in planner and "(L)" in checks and "λW" in checks
    assert "-0.000" not in text and "e+" not in text
    for line in text.split("\nterms:")[0].splitlines():  # the glossary explains the price years themselves
        if "DKK" in line and not line.lstrip().startswith(("reception staffing:", "bed-day:", "completion tax:")):
            assert re.search(r"DKK\s\((\d{4}( and \d{4})*)\s(rates|prices)\)", line), line
    assert "completion-tax days per 14 days" in text and "same-day acknowledgements" in text
    assert "813 Frederikshavn Kommune" in text
    assert "variant window-14: the 2024 agreement's discharge window" in text
    # Kroner of two price years are never added: the net says why it is not there and how to get one.
    assert "both sides of the bill" in text and "net: tax saved − staffing" in text
    assert "not netted: the completion tax is in 2016 rates and reception staffing in 2024 prices" in text
    assert "kroner of different years are not added" in text and "completion_tax.rates.YEAR" in text
    assert "SOURCE: Frederikshavn Kommune's consultation response" in text and "ASSUMPTION: no bed-day cost" in text
    assert re.search(r"same-day acknowledgements +\d+\.\d \u202f?%", text.replace(S, " ")), text


def test_the_simulate_page_describes_names_and_bills(twelve_result) -> None:
    _, data = twelve_result
    page = to_html(data, [])
    assert 'id="model-checks"' in page and page.index('id="model-checks"') > page.index('id="metrics"')
    assert "Frederikshavn Kommune" in page and 'id="bill"' in page and "the 2024 agreement&#x27;s" in page
    assert 'class="scroll"' in page


def test_chart_axes_print_figures_and_dates(twelve_result) -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1.2e8])
    figures_axis(ax.yaxis)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert f"100{S}000{S}000" in labels and not any("e" in t for t in labels)
    plt.close(fig)
    result, _ = twelve_result
    fig = tax_days_per_week_figure(result)
    ax = fig.axes[0]
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    first = mdates.num2date(ax.lines[0].get_xdata(orig=False)[0]).date()
    assert first.isoformat() == "2025-01-13"  # the horizon's first day: start + warm-up
    plt.close(fig)
