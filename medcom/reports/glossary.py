"""What the planner reports' terms mean: one glossary for text, HTML and JSON (`"glossary"`).

`glossary(result)` gives the terms a simulation or sweep report prints, each in plain words; where a
definition depends on the run (the warm-up and cool-down that explain the episode count, the number of
replications) it is filled in from the result.
"""

from __future__ import annotations

from medcom.reports.formatting import number

TERMS: dict[str, str] = {
    "95 % CI": "Confidence interval: the range that holds the model's true mean 95 times in 100, given the "
               "replications run. It covers simulation noise only (the randomness of which patients arrive and "
               "how long things take), not whether the scenario's figures are right: for that, see the "
               "sensitivity analysis.",
    "replication": "One run of the whole period with its own random patients. Every figure is the mean over the "
                   "replications; more replications give narrower intervals.",
    "paired difference (variant − base)": "The difference computed replication by replication and then averaged: "
                                           "in a replication the variant and the base see the same patients "
                                           "(common random numbers), so the difference shows the effect of the "
                                           "change rather than of different patients, and its interval is narrow.",
    "common random numbers": "Replication r of every variant draws the same patients with the same needs and "
                             "timings, so a change that does nothing gives a difference of exactly 0.",
    "completion tax (færdigbehandlingstakst)": "What a municipality pays the region for each day a patient who is "
                                               "ready for discharge stays in hospital (sundhedsloven § 238; rules "
                                               "TAX-1 to TAX-5).",
    "completion-tax days (tax days)": (
        "Days the completion tax is paid for (TAX-1): a local midnight after the effective ready time and up to "
        "the discharge. The effective ready time is the ready time, moved later to the hospital's first contact "
        "with the municipality if that came later, into 08:00-21:00, and to a needed discharge conference or "
        "guardianship hand-over."),
    "2016 rates": "The completion tax's daily rates from the policy's rate table of that year (the shipped "
                  "default is the agreement's 2016 price level: 3\u202f952 DKK for days 1-2, 5\u202f928 DKK from "
                  "day 3). A policy file can add a table for a later year (completion_tax.rates.YEAR).",
    "2024 prices": "A cost figure in that year's kroner, as its source gives it. medcom never adds kroner of "
                   "different years: a net is shown only when both sides are priced in the same year.",
    "disputable tax days": "Tax days of episodes where no care plan was sent before the ready time (TAX-5): "
                           "the patient was not administratively ready, so the municipality can dispute them. "
                           "They stay in the count.",
    "pp": "Percentage points: the difference of two percentages (99.6 % − 99.2 % = +0.4 pp).",
    "discharges": "Counted episodes that ended in a discharge (every counted episode runs to its discharge).",
    "phone calls": "Phone calls between hospital and municipality that the agreement asks for (CP-2, ACK-1, DIS-2) "
                   "in the counted episodes.",
    "bed-days": "Days in hospital from the admission to the discharge, in hours / 24.",
    "bed-days ready but waiting": "Days from the ready-for-discharge time to the discharge, in hours / 24. It can "
                                  "move the other way from tax days: tax days count whole midnights from the "
                                  "effective ready time, waiting counts hours. An earlier care-plan deadline "
                                  "(care-plan-cutoff-12) lets many patients go home some hours earlier on the same "
                                  "day (less waiting, no tax day saved), while the day's reception capacity, taken "
                                  "earlier by them, pushes a few others past a midnight (a whole tax day each).",
    "same-day acknowledgements": "The share of care plans due an acknowledgement the same day (ACK-1) that got it "
                                 "in time.",
    "care plans late (CP-1)": "Care plans (plejeforløbsplaner) sent after the CP-1 deadline: the weekday before "
                              "the ready day at the policy's cutoff.",
    "messages to municipalities": "MedCom messages the hospital sends the municipality in the counted episodes.",
    "rule ids": "CP-1, ACK-1, TAX-1 ...: the discharge agreement's rules as medcom checks them; "
                "`medcom rules ID` prints one rule in full.",
    "per year": "A total over the counted days; 52 weeks (364 days) count as a year.",
    "net": "Tax saved minus the extra staffing (the municipality), or the freed bed-days' value minus the tax "
           "income forgone (the region); computed only when both sides are in one price year.",
    "SOURCE / ASSUMPTION / unmarked": "How the scenario file marks each key in its comment: SOURCE rests on a "
                                      "reference, ASSUMPTION is a guess to replace with local data, FITTED was "
                                      "read from a log by `medcom calibrate`; unmarked keys have no mark.",
    "sensitivity analysis": "Each assumption is moved down and up over a stated range while the rest stay, and the "
                            "headline is simulated again with the same patients (common random numbers); the "
                            "tornado chart ranks the assumptions by how far they move it.",
    "patients in hospital (L), arrival rate × mean stay (λW): Little's law":
        "A check of the model, not a planner's figure: in a steady state the time-average "
                            "number in hospital (L) equals the arrival rate times the mean stay (λW).",
}


def glossary(result: dict) -> dict[str, str]:
    """The terms with the run's own figures filled in: the episodes counted and simulated, and why they differ."""
    out = dict(TERMS)
    warm, cool = result.get("warmup_days"), result.get("cooldown_days")
    if warm is not None and cool is not None:
        simulated = (result.get("episodes_simulated") or {}).get("mean")
        counted = (result.get("metrics") or {}).get("episodes", {}).get("mean")
        figures = (f" In this run about {number(simulated)} episodes are simulated per replication and "
                   f"{number(counted)} counted." if simulated is not None and counted is not None else "")
        out["episodes (admitted in horizon)"] = (
            f"Episodes of patients admitted in the {result['horizon_days']} counted days. The run also simulates "
            f"a {warm}-day warm-up before them (so the wards are full when counting starts) and a {cool}-day "
            f"cool-down after (so the last days share capacity like the others); patients admitted then are "
            f"simulated but not counted.{figures} A count of all simulated episodes (a progress line, an emitted "
            f"log) is therefore larger than the counted one.")
    return out


def text_lines(result: dict, width: int = 116) -> list[str]:
    """'terms:' and each term with its meaning, wrapped."""
    import textwrap

    lines = ["terms:"]
    for term, meaning in glossary(result).items():
        lines += textwrap.wrap(f"{term}: {meaning}", width, initial_indent="  ", subsequent_indent="    ")
    return lines
