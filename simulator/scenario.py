"""Planner scenarios (TOML in scenarios/): the stochastic hospital and municipality, and the policy variants.

A scenario file has the tables below, every key required (so that a file says everything it assumes);
`[policy]` lays RULES.md parameters over the shipped default policy, and each `[variants.NAME]` lays any
subset of the scenario's tables (policy included) over the base, with an optional `description` (text) that
the reports print; an optional `[costs]` table prices reception staff and bed-days (simulator/costs.py).
Unknown keys and bad values are rejected with an error naming the file and the dotted key: NaN and infinite
numbers (but an infinite reception capacity, which means no limit), values outside `LIMITS`, and a run that
does not fit in the years medcom works with. The agreement's figures (cutoffs, delays, windows, rates) live
in the policy; the simulated behaviour (how long people and systems take, when wards work) lives here. A
range `[a, b]` is a whole number of minutes drawn uniformly from a to b inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from medcom.calendar import EARLIEST_YEAR, LATEST_YEAR, BusinessCalendar
from medcom.identifiers import check_municipality
from medcom.policy import (
    INFINITY_ALLOWED,
    Policy,
    PolicyError,
    from_table,
    load_policy,
    merge_tables,
    parse_toml,
    read_text_file,
)
from simulator.costs import Costs, parse_costs
from simulator.marks import key_marks

DESTINATIONS = ("home", "home_nursing", "nursing_home", "temporary_place", "hospice", "other")
MAX_REPLICATIONS = 10_000  # as the command line's --replications
MAX_VARIANTS = 100
MAX_WEIGHT = 1e6  # relative weights; larger ones add up to infinity
DAY_MINUTES = 24 * 60
# (lowest, highest) of the numbers a run may take: beyond them a run means nothing, never ends, or its
# times leave the calendar (a log-normal stay's tail is median * e^(7 sigma) at the extreme).
LIMITS: dict[str, tuple[float, float]] = {
    "run.warmup_days": (0, 3660), "run.horizon_days": (1, 3660), "run.cooldown_days": (0, 3660),
    "run.replications": (2, MAX_REPLICATIONS), "run.seed": (0, 2**128 - 1),
    "admissions.per_day": (0, 10_000),
    "stay.ready_after_median_hours": (0.01, 1000), "stay.ready_after_sigma": (0, 1.5),
    "hospital.care_plan_lead_hours": (0, 8760), "hospital.conference_after_weekdays": (0, 365),
    "hospital.terminal_stay_days": (0, 365), "hospital.guardianship_info_days": (0, 365),
    "hospital.answer_hours": (0, 8760),
    "municipality.ack_delay_hours": (0, 8760), "municipality.preparation_hours": (0, 8760),
    "municipality.reception_capacity_per_day": (1e-9, float("inf")),
    "municipality.reception_spread_minutes": (0, DAY_MINUTES),
}

# Every other number of the tables is bounded by its unit (a year of hours or minutes, a year of days): a key
# added later gets a bound by its name, and no value (1e308) reaches the simulation's integer clock unchecked.
UNIT_LIMITS: dict[str, tuple[float, float]] = {
    "_hours": (0, 8760), "_minutes": (0, 365 * DAY_MINUTES), "_days": (0, 365), "_weekdays": (0, 365),
    "_share": (0, 1), "_weights": (0, MAX_WEIGHT),
}


def limits_of(dotted: str) -> tuple[float, float] | None:
    """The (lowest, highest) a scenario's number at `dotted` (table.key) may take; None for a key that is no
    number."""
    if dotted in LIMITS:
        return LIMITS[dotted]
    return next((span for suffix, span in UNIT_LIMITS.items() if dotted.endswith(suffix)), None)


class ScenarioError(PolicyError):
    """A scenario file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Run:
    name: str
    description: str
    start: date  # first simulated day; counting starts after the warm-up
    warmup_days: int
    horizon_days: int  # days whose admissions are counted
    cooldown_days: int  # admissions go on (uncounted) so that capacity is shared at the end as in the middle
    replications: int
    seed: int


@dataclass(frozen=True)
class Admissions:
    process: str  # "poisson" (random numbers per day and times) or "fixed" (hand-computable)
    per_day: float  # mean admissions per day of citizens known to municipal care (an admission advice each)
    weekday_weights: tuple[float, ...]  # Monday..Sunday, relative
    hour_weights: tuple[float, ...]  # 24 values, relative: hour of admission
    needs_help_share: float  # share who need municipal help after the discharge (care plan flow)
    somatic_share: float  # share admitted to a somatic ward (R72-1)
    municipalities: tuple[str, ...]  # municipality codes patients live in
    municipality_weights: tuple[float, ...]  # relative, same order


@dataclass(frozen=True)
class Stay:
    ready_after_median_hours: float  # admission -> ready for discharge: log-normal with this median
    ready_after_sigma: float  # ... and this shape (0: always the median)
    ready_hour_weights: tuple[float, ...]  # 24 values: hour of day a patient is declared ready
    ready_at_the_earliest_hours: float  # ... but not earlier than this long after the admission


@dataclass(frozen=True)
class Hospital:
    care_plan_late_share: float  # share of care plans sent after the CP-1 deadline
    care_plan_lead_hours: float  # on-time plans go out uniformly up to this long before the deadline
    phone_when_late_share: float  # late plans (CP-2) and plans after the cutoff (ACK-1) followed by a call
    completion_notice_share: float  # FM-1: share of notices sent when they are due
    conference_share: float  # share of help-needing patients who need a discharge conference
    conference_after_weekdays: float  # conference ready this many weekdays (mean) after the care plan
    terminal_share: float  # share declared terminal who wish to stay (TAX-3)
    terminal_stay_days: float  # mean extra days they stay
    guardianship_share: float  # TAX-4
    guardianship_info_days: float  # mean days after ready until the health information is handed over
    question_share: float  # share of care plans the municipality asks a question about (ACK-3)
    answer_hours: float  # mean hours until the hospital answers
    discharge_report_late_share: float  # DIS-2: share of reports later than the policy's discharge.report_within
    destination_weights: tuple[float, ...]  # relative, in the order of DESTINATIONS
    admission_advice_minutes: tuple[float, ...]  # range: the advice after the admission
    care_plan_after_report_minutes: float  # the care plan at the earliest this long after the admission report
    ward_day_start: time  # wards send care plans in this local window; one due outside waits for its start
    ward_day_end: time
    phone_after_plan_minutes: float  # the CP-2 / ACK-1 phone call after the care plan
    conference_at: time  # local time of day the hospital is ready to hold a discharge conference
    discharge_after_conference_hours: float  # the discharge at the earliest this long after the conference
    discharge_after_guardianship_hours: float  # ... and after the guardianship information is handed over
    completion_notice_minutes: tuple[float, ...]  # range: the FM-1 notice after the ready time
    discharge_advice_minutes: tuple[float, ...]  # range: the automatic advice after the discharge
    discharge_report_minutes: tuple[float, ...]  # range: reports in time, after the discharge (within the policy's)
    discharge_report_late_minutes: tuple[float, ...]  # range: late reports, after the policy's report_within
    report_phone_after_minutes: float  # the DIS-2 phone call after a late-day report


@dataclass(frozen=True)
class Municipality:
    ack_delay_hours: float  # mean delay of the electronic acknowledgement (exponential)
    preparation_hours: float  # the earliest reception is this long after the care plan arrived
    # receptions per reception day over all municipalities, more than 0 (inf: no limit)
    reception_capacity_per_day: Annotated[float, INFINITY_ALLOWED]
    discharge_window_start: time  # receptions happen in this local window
    discharge_window_end: time
    weekend_reception: bool
    holiday_reception: bool
    reception_spread_minutes: float  # a reception at the window start is spread over up to this long
    must_act_share: float  # DIS-2: share of late discharge reports the municipality must act on (phone call)
    admission_report_minutes: tuple[float, ...]  # range: the automatic admission report after the advice
    office_opens: time  # the municipality acknowledges care plans from this local time
    ack_before_discharge_minutes: float  # the acceptance (it carries the discharge time) at least this long before
    question_after_ack_minutes: float  # a question about the care plan this long after the acknowledgement

    def receives_on(self, day: date, calendar: BusinessCalendar) -> bool:
        """Whether patients are received on `day` (weekends and public holidays as the scenario says)."""
        if day.weekday() >= 5 and not self.weekend_reception:
            return False
        return self.holiday_reception or calendar.holiday_name(day) is None


@dataclass(frozen=True)
class Settings:
    """Everything but the run and the variants: what a variant may change."""

    admissions: Admissions
    stay: Stay
    hospital: Hospital
    municipality: Municipality
    policy: Policy


@dataclass(frozen=True)
class Scenario:
    run: Run
    base: Settings
    variants: dict[str, Settings]  # name -> settings, in file order
    source: str
    descriptions: dict[str, str] = field(default_factory=dict)  # variant name -> its `description`, if given
    costs: Costs | None = None  # the optional [costs] table
    marks: dict[str, str] = field(default_factory=dict)  # dotted key -> SOURCE / ASSUMPTION / FITTED / unmarked

    @property
    def name(self) -> str:
        return self.run.name


SETTINGS_TABLES = {"admissions": Admissions, "stay": Stay, "hospital": Hospital, "municipality": Municipality}


def _table(cls: type, table: Any, prefix: str, source: str) -> Any:
    try:
        return from_table(cls, table, prefix)
    except PolicyError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def _settings(raw: dict[str, Any], source: str, prefix: str) -> Settings:
    values: dict[str, Any] = {}
    if not isinstance(raw.get("policy", {}), dict):
        raise ScenarioError(f"{source}: {prefix}policy: expected a table, got {raw['policy']!r}")
    for key, cls in SETTINGS_TABLES.items():
        if key not in raw:
            raise ScenarioError(f"{source}: {prefix}{key}: missing table")
        values[key] = _table(cls, raw[key], f"{prefix}{key}", source)
    try:
        values["policy"] = load_policy().with_overrides(raw.get("policy", {}), source)
    except PolicyError as exc:
        raise ScenarioError(f"{source}: {prefix}policy.{exc}") from None
    settings = Settings(**values)
    _check(settings, source, prefix)
    return settings


def _check(s: Settings, source: str, prefix: str) -> None:
    def fail(key: str, why: str) -> None:
        raise ScenarioError(f"{source}: {prefix}{key}: {why}")

    _check_limits({"admissions": s.admissions, "stay": s.stay, "hospital": s.hospital,
                   "municipality": s.municipality}, fail)
    a = s.admissions
    if a.process not in ("poisson", "fixed"):
        fail("admissions.process", f"expected 'poisson' or 'fixed', got {a.process!r}")
    for key, weights, n in (("admissions.weekday_weights", a.weekday_weights, 7),
                            ("admissions.hour_weights", a.hour_weights, 24),
                            ("stay.ready_hour_weights", s.stay.ready_hour_weights, 24),
                            ("hospital.destination_weights", s.hospital.destination_weights, len(DESTINATIONS)),
                            ("admissions.municipality_weights", a.municipality_weights, len(a.municipalities))):
        if len(weights) != n or sum(weights) <= 0:
            fail(key, f"expected {n} non-negative weights, not all zero")
        if max(weights) > MAX_WEIGHT:
            fail(key, f"weights are relative: at most {MAX_WEIGHT:g} each")
    for i, code in enumerate(a.municipalities):
        if problem := check_municipality(code):
            fail(f"admissions.municipalities[{i}]", problem)
    h, m = s.hospital, s.municipality
    if m.discharge_window_start >= m.discharge_window_end:
        fail("municipality.discharge_window_start", "must be before discharge_window_end")
    if h.ward_day_start >= h.ward_day_end:
        fail("hospital.ward_day_start", "must be before ward_day_end")
    for key, span in (*((f"hospital.{k}", v) for k, v in vars(h).items() if k.endswith("_minutes")
                        and isinstance(v, tuple)),
                      ("municipality.admission_report_minutes", m.admission_report_minutes)):
        if len(span) != 2 or span[0] > span[1]:
            fail(key, f"expected a range [from, to] of minutes, from <= to, got {list(span)}")
    if h.discharge_report_late_minutes[0] < 1:
        fail("hospital.discharge_report_late_minutes", "a late report comes at least a minute after the deadline")
    if s.stay.ready_after_median_hours <= 0:
        fail("stay.ready_after_median_hours", "must be more than 0")


def _check_limits(tables: dict[str, Any], fail: Any) -> None:
    for table, values in tables.items():
        for key, value in vars(values).items():
            numbers = value if isinstance(value, tuple) else (value,)
            if not numbers or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
                continue
            span = limits_of(f"{table}.{key}")
            if span is None:  # a bug here, not in the input: every number has a bound
                raise TypeError(f"{table}.{key}: a scenario number without limits")
            low, high = span
            if not all(low <= n <= high for n in numbers):
                fail(f"{table}.{key}", f"expected {'values' if isinstance(value, tuple) else 'a value'} from "
                                       f"{low:g} to {high:g}, got {value!r}")


def _check_run(run: Run, source: str) -> None:
    def fail(key: str, why: str) -> None:
        raise ScenarioError(f"{source}: {key}: {why}")

    _check_limits({"run": run}, fail)
    days = run.warmup_days + run.horizon_days + run.cooldown_days
    if run.start.year < EARLIEST_YEAR or run.start + timedelta(days=days) > date(LATEST_YEAR - 1, 12, 31):
        fail("run.start", f"the run ({days} days from {run.start}) must lie in the years {EARLIEST_YEAR}-"
                          f"{LATEST_YEAR - 1}")


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file."""
    path = Path(path)
    source = str(path)
    try:
        text = read_text_file(path, "scenario")
        raw = parse_toml(text, source)
    except PolicyError as exc:
        raise ScenarioError(str(exc)) from None
    return replace(scenario_from_raw(raw, source), marks=key_marks(text))


def scenario_from_raw(raw: dict[str, Any], source: str) -> Scenario:
    """A scenario from its parsed TOML tables (a file's, or one a sweep made), checked as a file is."""
    known = {"run", "policy", "variants", "costs", *SETTINGS_TABLES}
    for key in raw:
        if key not in known:
            raise ScenarioError(f"{source}: {key}: unknown table")
    run = _table(Run, raw.get("run"), "run", source)
    if run.replications < 2:
        raise ScenarioError(f"{source}: run.replications: at least 2 are needed for a confidence interval")
    _check_run(run, source)
    base_raw = {k: v for k, v in raw.items() if k not in ("run", "variants", "costs")}
    base = _settings(base_raw, source, "")
    costs = None
    if "costs" in raw:
        try:
            costs = parse_costs(raw["costs"], base.admissions.municipalities, source)
        except PolicyError as exc:
            raise ScenarioError(str(exc)) from None
    variants, descriptions = {}, {}
    listed = raw.get("variants", {})
    if not isinstance(listed, dict):
        raise ScenarioError(f"{source}: variants: expected tables [variants.NAME], got {listed!r}")
    if len(listed) > MAX_VARIANTS:
        raise ScenarioError(f"{source}: variants: at most {MAX_VARIANTS} variants, got {len(listed)}")
    for name, over in listed.items():
        if not isinstance(over, dict):
            raise ScenarioError(f"{source}: variants.{name}: expected a table")
        if name == "base":
            raise ScenarioError(f"{source}: variants.base: 'base' names the scenario itself; choose another name")
        if not isinstance(over.get("policy", {}), dict):
            raise ScenarioError(f"{source}: variants.{name}.policy: expected a table, got {over['policy']!r}")
        if "description" in over:
            if not isinstance(over["description"], str):
                raise ScenarioError(f"{source}: variants.{name}.description: expected text, "
                                    f"got {over['description']!r}")
            descriptions[name] = " ".join(over["description"].split())
        tables = {k: v for k, v in over.items() if k not in ("policy", "description")}
        try:
            merged = merge_tables({k: v for k, v in base_raw.items() if k != "policy"}, tables, source,
                                  ("variants", name))
        except PolicyError as exc:
            raise ScenarioError(str(exc)) from None
        # Policy keys are checked against the full policy (by with_overrides), not the base file's subset.
        merged["policy"] = _deep(base_raw.get("policy", {}), over.get("policy", {}))
        variants[name] = _settings(merged, source, f"variants.{name}.")
    return Scenario(run, base, variants, source, descriptions, costs)


def _deep(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _deep(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def with_run(scenario: Scenario, **changes: Any) -> Scenario:
    """The scenario with some run settings changed (from the command line); checked as the file is."""
    changed = replace(scenario, run=replace(scenario.run, **changes))
    _check_run(changed.run, scenario.source)
    return changed
