"""Both sides of the bill of each variant against the base, from a scenario's `[costs]` (simulator/costs.py).

The municipality: the completion tax it no longer pays (paired per replication: common random numbers) against
the reception staffing the variant adds (rate x window hours x reception days over the horizon, the same in
every replication). The region: the bed-days freed and their value, against the completion tax income it
no longer receives (the same kroner as the municipality's saving: a transfer between the two). Every DKK
figure carries its price year; the figures' sources go with the bill.

Kroner of different price years are never added: a net (`net_dkk`) is computed only when both of its sides are
in the same year, and is otherwise None with `net_not_computed` saying why and how to get one (the policy's
completion-tax rate table for the year the staffing is priced in). medcom ships no price index: the tax's own
regulation is set by the state each year, and converting with a general index would be a second assumption.
"""

from __future__ import annotations

from collections.abc import Callable

from medcom.identifiers import municipality_name
from simulator.costs import (
    Costs,
    horizon_days,
    price_years,
    reception_days,
    staffing_dkk,
    tax_rates_label,
    window_hours,
)
from simulator.run import BASE, ScenarioResult, settings_of
from simulator.scenario import Run, Settings
from simulator.statistics import summary


def figures(costs: Costs, base: Settings, run: Run) -> list[dict[str, object]]:
    """What the bill's DKK figures rest on, each with its price year and its source or assumption."""
    tax = base.policy.completion_tax
    years = sorted({tax.rates_year(day.year) for day in horizon_days(run)})
    return [
        {"figure": "reception staffing", "dkk": costs.reception_dkk_per_window_hour_day,
         "unit": "per hour of the discharge window per reception day", "prices": f"{costs.reception_price_year} prices",
         "source": costs.reception_source},
        {"figure": "bed-day", "dkk": {"region": costs.bed_day_dkk}, "unit": "per bed-day",
         "prices": f"{costs.bed_day_price_year} prices", "source": costs.bed_day_source},
        *({"figure": "completion tax", "dkk": {f"days 1-{r.first_days}": r.first_rate, "later days": r.later_rate},
           "unit": "per tax day", "prices": f"{year} rates",
           "source": "SOURCE: the policy's completion_tax.rates (the shipped default is the agreement's source at the "
                     "2016 price level; a policy file or the scenario's [policy] may add later years)"}
          for year in years for r in (tax.rates[year],)),
    ]


def bill(result: ScenarioResult) -> dict[str, object] | None:
    """The bill of every variant against the base; None without `[costs]` or without variants."""
    scenario = result.scenario
    costs = scenario.costs
    if costs is None or len(result.runs) < 2:
        return None
    run, base = scenario.run, scenario.base
    base_runs = result.runs[BASE]
    tax_prices = tax_rates_label(base.policy, run)
    calendar = base.policy.business_calendar
    out: dict[str, object] = {
        "horizon_days": run.horizon_days,
        "prices": {"completion_tax": tax_prices, "reception": f"{costs.reception_price_year} prices",
                   "bed_day": f"{costs.bed_day_price_year} prices"},
        "figures": figures(costs, base, run),
        "variants": {},
    }
    for name, runs in result.runs.items():
        if name == BASE:
            continue
        settings = settings_of(scenario, name)
        codes = list(dict.fromkeys([*base.admissions.municipalities, *settings.admissions.municipalities]))
        municipalities: dict[str, object] = {}
        saved_total = [0.0] * len(runs)
        staffing_total = 0.0
        tax_prices = tax_rates_label(settings.policy, run)
        staff_net = _net_or_why(tax_prices, f"{costs.reception_price_year} prices", "reception staffing")
        region_net = _net_or_why(tax_prices, f"{costs.bed_day_price_year} prices", "the bed-days' value")
        for code in codes:
            saved = [b.tax_dkk_by_municipality.get(code, 0) - v.tax_dkk_by_municipality.get(code, 0)
                     for b, v in zip(base_runs, runs, strict=True)]
            extra = (staffing_dkk(costs, code, settings.municipality, settings.policy, run)
                     - staffing_dkk(costs, code, base.municipality, base.policy, run)) \
                if code in costs.reception_dkk_per_window_hour_day else 0.0
            saved_total = [t + s for t, s in zip(saved_total, saved, strict=True)]
            staffing_total += extra
            municipalities[code] = {"name": municipality_name(code), "tax_saved_dkk": summary(saved),
                                    "extra_staffing_dkk": extra,
                                    **staff_net([s - extra for s in saved])}
        freed = [b.values["bed_days"] - v.values["bed_days"] for b, v in zip(base_runs, runs, strict=True)]
        value = [f * costs.bed_day_dkk for f in freed]
        out["variants"][name] = {  # type: ignore[index]
            "description": scenario.descriptions.get(name, ""),
            "window": {"base": [str(base.municipality.discharge_window_start)[:5],
                                str(base.municipality.discharge_window_end)[:5]],
                       "variant": [str(settings.municipality.discharge_window_start)[:5],
                                   str(settings.municipality.discharge_window_end)[:5]],
                       "hours": [window_hours(base.municipality), window_hours(settings.municipality)],
                       "reception_days": [reception_days(m, calendar, horizon_days(run))
                                          for m in (base.municipality, settings.municipality)]},
            "completion_tax_prices": tax_prices,
            "municipalities": municipalities,
            "municipality_total": {"tax_saved_dkk": summary(saved_total), "extra_staffing_dkk": staffing_total,
                                   **staff_net([s - staffing_total for s in saved_total])},
            "region": {"bed_days_freed": summary(freed), "bed_days_value_dkk": summary(value),
                       "tax_income_forgone_dkk": summary(saved_total),
                       **region_net([v - s for v, s in zip(value, saved_total, strict=True)])},
        }
    return out



def _net_or_why(tax_prices: str, other_prices: str, other: str) -> Callable[[list[float]], dict]:
    """A maker of the net's fields from the per-replication nets: {"net_dkk": summary} when the completion tax
    and the other side are priced in one year, else {"net_dkk": None, "net_not_computed": why} (kroner of two
    years are not added)."""
    tax_years, other_years = price_years(tax_prices), price_years(other_prices)
    if tax_years == other_years and len(tax_years) == 1:
        return lambda values: {"net_dkk": summary(values)}
    why = (f"not computed: the completion tax is in {tax_prices} and {other} in {other_prices}, and kroner of "
           f"different years are not added; give the policy a completion-tax rate table for "
           f"{' and '.join(sorted(other_years))} (completion_tax.rates.YEAR) to price both in one year")
    return lambda _values: {"net_dkk": None, "net_not_computed": why}
