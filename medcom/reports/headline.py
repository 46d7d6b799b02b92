"""The answer first: one sentence per variant with its 95 % CI, and what the CI does not cover.

One source for every format: `headlines(result)` is what the JSON carries (`"headlines"`), and the text and
HTML reports print its sentences as they are. A variant's sentence says what it does to the completion tax
(the municipalities' side of the bill), in tax days and DKK with the rate table's year, and, when the scenario
prices the other side (`[costs]`), the extra staffing and the net; a net is given only when both sides are in
one price year (simulator/bill.py), never by adding kroner of different years.
"""

from __future__ import annotations

from typing import Any

from medcom.reports.formatting import number, per_horizon, plural

MILLION = 1_000_000


def _a(per: str) -> str:
    """'per year' -> 'a year'; 'per 14 days' -> 'per 14 days'."""
    return "a year" if per == "per year" else per


def money(value: float, prices: str = "") -> str:
    """'6.47 M DKK (2016 rates)' from a million up, else whole kroner ('94 848 DKK (2016 rates)'); three
    significant digits in millions; the price year bound to the unit (no-break spaces: a wrapped line keeps them
    together)."""
    year = f"\u00a0({prices.replace(' ', chr(0xa0))})" if prices else ""
    if abs(value) >= MILLION:
        m = abs(value) / MILLION
        return f"{number(m, 2 if m < 10 else 1 if m < 100 else 0)}\u202fM\u202fDKK{year}"
    return f"{number(abs(value))}\u202fDKK{year}"


def _interval(low: float, high: float, scale: float) -> str:
    """The interval of a magnitude, in the unit of its mean ('[6.40; 6.53]' for millions)."""
    lo, hi = sorted((abs(low), abs(high)))
    if scale >= MILLION:
        m = scale / MILLION
        d = 2 if m < 10 else 1 if m < 100 else 0
        return f"[{number(lo / MILLION, d)}; {number(hi / MILLION, d)}]"
    return f"[{number(lo)}; {number(hi)}]"


def _signed(stat: dict, kind: str, prices: str = "") -> str:
    """'+94 848 DKK (2016 rates) [−14 490; 175 206]' or '+5.0 [−1.0; 11.0]': a difference as it is, signs kept."""
    mean, (low, high) = float(stat["mean"]), stat["ci95"]
    d = 0 if kind == "dkk" or abs(mean) >= 10 else 1
    sign = "+" if round(mean, d) > 0 else ""
    unit = f"\u202fDKK\u00a0({prices.replace(' ', chr(0xa0))})" if kind == "dkk" else ""
    return f"{sign}{number(mean, d)}{unit} [{number(low, d)}; {number(high, d)}]"


def _clear(stat: dict) -> int:
    """1 or -1 when the whole interval lies above or below 0; 0 when it holds 0 (or is exactly 0)."""
    low, high = stat["ci95"]
    return 1 if low > 0 else -1 if high < 0 else 0


def _tax_clause(tax_dkk: dict, tax_days: dict, per: str, rates: str) -> str:
    """What a variant does to the completion tax, in DKK and tax days, with the intervals."""
    if tax_dkk["ci95"] == [0, 0] and tax_dkk["mean"] == 0 and tax_days["mean"] == 0:
        return "no change in completion tax"
    direction = _clear(tax_dkk)
    if direction == 0:
        return (f"no clear change in completion tax {per}: variant − base {_signed(tax_dkk, 'dkk', rates)}, "
                f"tax days {_signed(tax_days, 'count')} (the intervals hold 0)")
    mean = abs(float(tax_dkk["mean"]))
    days = abs(float(tax_days["mean"]))
    return (f"the municipalities pay {money(mean, rates)} {_interval(*tax_dkk['ci95'], mean)} "
            f"{'less' if direction < 0 else 'more'} completion tax {per}, for "
            f"{number(days)} {_interval(*tax_days['ci95'], 0)} {'fewer' if _clear(tax_days) < 0 else 'more'} "
            f"tax days")


def variant_headline(name: str, result: dict, bill: dict | None) -> dict[str, Any]:
    """The headline of one variant: its sentence and the figures it rests on (all from `result`)."""
    per = _a(per_horizon(result["horizon_days"]))
    variant, diff = result["variants"][name], result["comparison"][name]["difference"]
    rates = variant.get("completion_tax_rates") or result.get("completion_tax_rates", "")
    what = f" ({variant['description']})" if variant.get("description") else ""
    tax_dkk, tax_days = diff["completion_tax_dkk"], diff["completion_tax_days"]
    sentence = f"{name}{what}: {_tax_clause(tax_dkk, tax_days, per, rates)}"
    out: dict[str, Any] = {"variant": name, "completion_tax_dkk": tax_dkk, "completion_tax_days": tax_days,
                           "completion_tax_prices": rates}
    block = (bill or {}).get("variants", {}).get(name)
    if block:
        total, prices = block["municipality_total"], bill["prices"]  # type: ignore[index]
        staffing = float(total["extra_staffing_dkk"])
        out.update(extra_staffing_dkk=staffing, staffing_prices=prices["reception"], net_dkk=total["net_dkk"])
        if staffing:
            verb = "costs" if staffing > 0 else "saves"
            sentence += f"; the reception {verb} {money(staffing, prices['reception'])} {per} of staffing"
        if total["net_dkk"] is not None:
            net = total["net_dkk"]
            sentence += f"; net for the municipalities: {_signed(net, 'dkk', prices['reception'])} {per}"
        elif staffing:
            sentence += (f"; the two are not netted, being in different price years (a net needs the tax's rate "
                         f"table for {prices['reception'].split()[0]})")
    out["sentence"] = sentence + "."
    return out


def base_headline(result: dict) -> dict[str, Any]:
    """Without variants: what the base pays."""
    per = _a(per_horizon(result["horizon_days"]))
    m = result["metrics"]
    dkk, days = m["completion_tax_dkk"], m["completion_tax_days"]
    sentence = (f"The municipalities pay {money(dkk['mean'], result.get('completion_tax_rates', ''))} "
                f"{_interval(*dkk['ci95'], abs(dkk['mean']))} in completion tax {per} for "
                f"{number(days['mean'])} {_interval(*days['ci95'], 0)} tax days.")
    return {"variant": "base", "completion_tax_dkk": dkk, "completion_tax_days": days,
            "completion_tax_prices": result.get("completion_tax_rates", ""), "sentence": sentence}


def headlines(result: dict) -> list[dict[str, Any]]:
    """One headline per variant (or the base's when there is none)."""
    if not result.get("comparison"):
        return [base_headline(result)]
    return [variant_headline(name, result, result.get("bill")) for name in result["comparison"]]


def uncertainty(result: dict) -> str:
    """What the intervals cover, and what they do not."""
    marks = result.get("key_marks") or {}
    guessed = marks.get("ASSUMPTION", 0)
    unmarked = marks.get("unmarked", 0)
    keys = (f": {plural(guessed, 'key')} of the scenario are marked ASSUMPTION"
            + (f" and {unmarked} carry no mark" if unmarked else "")
            + (f", against {marks.get('SOURCE', 0)} SOURCE" if marks else "")) if marks else ""
    sens = result.get("sensitivity")
    then = ("; the sensitivity analysis below shows which assumptions move the answer most" if sens else
            "; `medcom simulate SCENARIO --sensitivity` shows which of them move the answer most")
    return (f"How sure: each interval (95 % CI) covers only the simulation's own noise over "
            f"{result['replications']} replications of the same scenario. It does not cover whether the scenario's "
            f"figures are right{keys}{then}, and `medcom calibrate` fits most of them to a local message log.")
