"""Both sides of the bill, by hand: the [costs] table, reception days, staffing, and the bill of a variant."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from helpers.scenarios import SHIPPED, scenario_file

from medcom.policy import PolicyError, load_policy
from simulator.bill import bill
from simulator.costs import parse_costs, reception_days, staffing_dkk, tax_rates_label, window_hours
from simulator.run import BASE, ScenarioResult
from simulator.scenario import ScenarioError, load_scenario
from simulator.simulation import Metrics

TWELVE = SHIPPED["twelve"]
TABLE = {"reception_dkk_per_window_hour_day": 1000.0, "reception_price_year": 2024,
         "reception_source": "SOURCE: a test", "bed_day_dkk": 5000.0, "bed_day_price_year": 2016,
         "bed_day_source": "ASSUMPTION: a test"}


def test_the_shipped_scenario_prices_frederikshavns_figure() -> None:
    """1.6 million DKK a year for 2 more window-hours on 365 reception days, back from the scenario's rate."""
    s = load_scenario(TWELVE)
    assert s.costs is not None
    assert s.costs.reception_rate("813") * 2 * 365 == pytest.approx(1_600_000, abs=1)
    assert s.costs.reception_source.startswith("SOURCE") and s.costs.bed_day_source.startswith("ASSUMPTION")
    base, wide = s.base, s.variants["window-14"]
    assert (window_hours(base.municipality), window_hours(wide.municipality)) == (4.0, 6.0)
    extra = staffing_dkk(s.costs, "813", wide.municipality, wide.policy, s.run) \
        - staffing_dkk(s.costs, "813", base.municipality, base.policy, s.run)
    assert extra == pytest.approx(2191.78 * 2 * 364)  # the horizon is 52 weeks, every day a reception day


def test_reception_days_over_easter_2025() -> None:
    """Mon 14 - Sun 20 April 2025: Maundy Thursday 17, Good Friday 18 and Easter Sunday 20 are holidays."""
    s = load_scenario(TWELVE)
    m, calendar = s.base.municipality, s.base.policy.business_calendar
    week = [date(2025, 4, 14 + i) for i in range(7)]
    cases = {(True, True): 7, (True, False): 4, (False, True): 5, (False, False): 3}
    for (weekend, holiday), expected in cases.items():
        assert reception_days(replace(m, weekend_reception=weekend, holiday_reception=holiday), calendar,
                              week) == expected, (weekend, holiday)


def test_a_rate_per_municipality_or_one_for_all() -> None:
    one = parse_costs(TABLE, ["813", "851"], "x.toml")
    assert one.reception_dkk_per_window_hour_day == {"813": 1000.0, "851": 1000.0}
    each = parse_costs({**TABLE, "reception_dkk_per_window_hour_day": {"813": 1.0, "851": 2.0}}, ["813", "851"],
                       "x.toml")
    assert each.reception_rate("851") == 2.0


@pytest.mark.parametrize(("change", "message"), [
    ({"reception_dkk_per_window_hour_day": -1}, "costs.reception_dkk_per_window_hour_day: expected a finite"),
    ({"reception_dkk_per_window_hour_day": {"813": 1.0}}, "no figure for municipality 851"),
    ({"reception_dkk_per_window_hour_day": {"813": 1.0, "851": 1.0, "101": 1.0}}, "not a municipality"),
    ({"bed_day_source": "a guess"}, "costs.bed_day_source: expected a text starting with SOURCE"),
    ({"bed_day_price_year": "2016"}, "costs.bed_day_price_year: expected a year"),
    ({"staff": 3}, "costs.staff: unknown key"),
])
def test_bad_costs_name_the_key(change: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=re.escape(message)):
        parse_costs({**TABLE, **change}, ["813", "851"], "x.toml")


def test_a_missing_costs_key_is_a_scenario_error(tmp_path: Path) -> None:
    path = scenario_file(tmp_path / "s.toml", TWELVE, drop=["costs.bed_day_dkk"], check=False)
    with pytest.raises(ScenarioError, match="costs.bed_day_dkk: missing"):
        load_scenario(path)


def _metrics(tax: float, bed_days: float) -> Metrics:
    return Metrics(values={"bed_days": bed_days}, tax_dkk_by_municipality={"813": tax})


def test_the_bill_of_a_variant_by_hand() -> None:
    """Two replications: the base pays 10,000 and 14,000 DKK of tax over 100 and 120 bed-days; the variant
    6,000 and 8,000 over 99 and 118. Saved: 4,000 and 6,000 (mean 5,000); staffing: 2 more window-hours on
    364 reception days at 2,191.78 DKK; bed-days freed 1 and 2 (mean 1.5) at 5,928 DKK."""
    s = load_scenario(TWELVE)
    result = ScenarioResult(s, {BASE: [_metrics(10_000, 100), _metrics(14_000, 120)],
                                "window-14": [_metrics(6_000, 99), _metrics(8_000, 118)]})
    b = bill(result)
    assert b is not None and b["prices"] == {"completion_tax": "2016 rates", "reception": "2024 prices",
                                             "bed_day": "2016 prices"}
    v = b["variants"]["window-14"]
    staffing = 2191.78 * 2 * 364
    m = v["municipalities"]["813"]
    assert m["name"] == "Frederikshavn Kommune"
    assert m["tax_saved_dkk"]["mean"] == 5000 and m["extra_staffing_dkk"] == pytest.approx(staffing)
    # The tax saved is in 2016 rates, the staffing in 2024 prices: kroner of two years are not netted.
    assert m["net_dkk"] is None and v["municipality_total"]["net_dkk"] is None
    assert "2016 rates" in m["net_not_computed"] and "2024 prices" in m["net_not_computed"]
    r = v["region"]
    assert r["bed_days_freed"]["mean"] == 1.5
    assert r["bed_days_value_dkk"]["mean"] == pytest.approx(1.5 * 5928)
    assert r["tax_income_forgone_dkk"]["mean"] == 5000
    assert r["net_dkk"]["mean"] == pytest.approx(1.5 * 5928 - 5000)  # 2016 prices less 2016 rates: one year
    assert v["window"]["hours"] == [4.0, 6.0] and v["window"]["reception_days"] == [364, 364]
    assert [f["figure"] for f in b["figures"]] == ["reception staffing", "bed-day", "completion tax"]
    assert all(f["source"].startswith(("SOURCE", "ASSUMPTION")) for f in b["figures"])


def test_rate_table_years_name_the_prices() -> None:
    s = load_scenario(TWELVE)
    assert tax_rates_label(s.base.policy, s.run) == "2016 rates"
    later = load_policy().with_overrides({"completion_tax": {"rates": {"2025": {
        "first_days": 2, "first_rate": 4000, "later_rate": 6000}}}})
    assert tax_rates_label(later, s.run) == "2025 rates"  # every day of the run is in 2025
    spanning = replace(s.run, start=date(2024, 11, 1))
    assert tax_rates_label(later, spanning) == "2016 and 2025 rates"


def test_the_net_is_computed_when_both_sides_share_a_price_year(tmp_path: Path) -> None:
    """With a completion-tax rate table for 2024 (the staffing's price year) the municipalities' net is the tax
    saved less the staffing, per replication (the rates' figures here are a test's, not the agreement's)."""
    path = tmp_path / "twelve-2024.toml"
    path.write_text(TWELVE.read_text(encoding="utf-8").replace(
        "[policy]\n", "[policy]\ncompletion_tax = { rates = { 2024 = { first_days = 2, first_rate = 4000, "
                      "later_rate = 6000 } } }\n", 1), encoding="utf-8")
    s = load_scenario(path)
    result = ScenarioResult(s, {BASE: [_metrics(10_000, 100), _metrics(14_000, 120)],
                                "window-14": [_metrics(6_000, 99), _metrics(8_000, 118)]})
    b = bill(result)
    assert b is not None and b["prices"]["completion_tax"] == "2024 rates"
    v = b["variants"]["window-14"]
    staffing = 2191.78 * 2 * 364
    m = v["municipalities"]["813"]
    assert m["net_dkk"]["mean"] == pytest.approx(5000 - staffing) and "net_not_computed" not in m
    low, high = m["net_dkk"]["ci95"]
    assert low == pytest.approx(5000 - staffing - 12.706 * 1000, abs=1)  # t(0.975, 1) x sd 1414 / sqrt 2
    assert high == pytest.approx(5000 - staffing + 12.706 * 1000, abs=1)
    # The region's bed-day is priced in 2016, its tax income forgone now in 2024 rates: not netted.
    assert v["region"]["net_dkk"] is None and "2016 prices" in v["region"]["net_not_computed"]
