"""The agreement as data: every clock time, duration and rate of RULES.md, loaded from TOML.

`load_policy()` gives the shipped default (Region Nordjylland 2024); `load_policy(path)` lays a user's
file over it, and `Policy.with_overrides(mapping)` does the same for planners' variants. Unknown keys,
malformed times, negative or longer-than-a-year durations, NaN and infinite numbers, and years outside
EARLIEST_YEAR..LATEST_YEAR are rejected with a `PolicyError` naming the dotted key.

TOML tables become typed frozen dataclasses by `from_table`, driven by the type hints: one converter per plain
type (`CONVERTERS`) and per generic form (`GENERIC_CONVERTERS`: Annotated, tuple, the tables keyed by year).
A library (cattrs, msgspec) would do the walking, but the formats here are the project's own (durations
"1h30m", local clock times, years as table keys, bounds), each of which would need a hook of its own, and
the errors must name the dotted key in the project's words; the converters stay short enough to read whole.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from medcom.calendar import EARLIEST_YEAR, LATEST_YEAR, BusinessCalendar
from medcom.safe_files import read_regular

T = TypeVar("T")

# Marks a float field whose value may be infinite, meaning "no limit": typing.Annotated[float, INFINITY_ALLOWED].
INFINITY_ALLOWED = "infinity allowed"
MAX_DURATION = timedelta(days=366)  # no window or delay of the agreement is longer; longer ones overflow times
MAX_FILE_BYTES = 10_000_000
MAX_WHOLE = 10**15  # any count, size or amount of a policy or scenario; larger ones overflow C and numpy integers
MAX_NUMBER = 1e300  # (a finite float; an int beyond it cannot even be made a float)


class PolicyError(ValueError):
    """A policy file or override that cannot be used; the message names the key."""


@dataclass(frozen=True)
class CalendarPolicy:
    extra_closed_days: tuple[date, ...] = ()


@dataclass(frozen=True)
class MessagesPolicy:
    receipt_timeout: timedelta
    max_message_bytes: int
    max_resends: int
    notification_within: timedelta
    max_timeline_bytes: int  # a timeline or side-car (file or archive member) larger than this is not read
    max_findings_per_file: int  # findings listed per input; the rest are counted in one closing finding


@dataclass(frozen=True)
class AdmissionPolicy:
    report_within: timedelta


@dataclass(frozen=True)
class CutoffPolicy:
    cutoff: time


@dataclass(frozen=True)
class DischargePolicy:
    advice_within: timedelta
    report_within: timedelta
    phone_cutoff: time


@dataclass(frozen=True)
class ExtendedResponsibilityPolicy:
    window: timedelta
    min_stay: timedelta
    destinations: tuple[str, ...]


@dataclass(frozen=True)
class LeavePolicy:
    max_period: timedelta
    readmission_window: timedelta


@dataclass(frozen=True)
class TaxRates:
    first_days: int
    first_rate: int
    later_rate: int


@dataclass(frozen=True)
class CompletionTaxPolicy:
    contact_window_opens: time
    contact_window_closes: time
    rates: dict[int, TaxRates]

    def rates_for(self, year: int) -> TaxRates:
        """The rates of the latest listed year not after `year` (the earliest listed if none is)."""
        return self.rates[self.rates_year(year)]

    def rates_year(self, year: int) -> int:
        """The year of the rate table that prices days of `year` (reports name it: "DKK (2016 rates)")."""
        usable = [y for y in self.rates if y <= year]
        return max(usable) if usable else min(self.rates)


@dataclass(frozen=True)
class RiskPolicy:
    yellow_error_rate: float
    red_error_rate: float


@dataclass(frozen=True)
class Policy:
    calendar: CalendarPolicy
    messages: MessagesPolicy
    admission: AdmissionPolicy
    care_plan: CutoffPolicy
    acknowledgement: CutoffPolicy
    correspondence: CutoffPolicy
    discharge: DischargePolicy
    extended_responsibility: ExtendedResponsibilityPolicy
    leave: LeavePolicy
    completion_tax: CompletionTaxPolicy
    risk: RiskPolicy
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def business_calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.calendar.extra_closed_days)

    def with_overrides(self, overrides: dict[str, Any], source: str = "override") -> Policy:
        """A new policy with `overrides` (nested tables, as in a policy file) laid over this one."""
        return _build(merge_tables(self.raw, overrides, source), source)


# Hours, minutes, seconds, each optional, blanks around each. Every quantifier is possessive and each blank run
# belongs to one place only (after the unit before it), so a match never backtracks: linear in the length
# (the older pattern, with a blank run between every two optional parts, took O(n^4) on "<spaces>x").
_DURATION = re.compile(r"^\s*+(?:(?P<h>\d++(?:\.\d++)?+)\s*+h\s*+)?+(?:(?P<m>\d++(?:\.\d++)?+)\s*+m(?:in)?+\s*+)?+"
                       r"(?:(?P<s>\d++(?:\.\d++)?+)\s*+s\s*+)?+$", re.ASCII)


def parse_duration(value: Any, key: str) -> timedelta:
    """'72h', '30m', '1h30m', '45s' -> timedelta; anything else, or a negative value, names the key."""
    if isinstance(value, str) and value.strip().startswith("-"):
        raise PolicyError(f"{key}: a duration cannot be negative ({value!r})")
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or not any(match.groupdict().values()):
        raise PolicyError(f"{key}: expected a duration like '72h', '30m' or '1h30m', got {_short(value)}")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    seconds = parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)
    if not seconds <= MAX_DURATION.total_seconds():  # also catches an infinite float from a long digit string
        raise PolicyError(f"{key}: a duration is at most {MAX_DURATION.days} days, got {value!r}")
    return timedelta(seconds=seconds)


def parse_clock(value: Any, key: str) -> time:
    """A TOML local time (14:00:00) or an 'HH:MM[:SS]' string -> time."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise PolicyError(f"{key}: a clock time is local Copenhagen time, without an offset")
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", value.strip(), re.ASCII):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PolicyError(f"{key}: expected a clock time like 14:00, got {value!r}")


def _short(value: Any) -> str:
    """A value as an error message quotes it: at most 60 characters (a 4,000-digit number, 1,000 blanks)."""
    if isinstance(value, int) and value.bit_length() > 200:
        return f"a {len(str(value))}-digit number"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _date(value: Any, key: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise PolicyError(f"{key}: expected a date like 2025-12-24, got {value!r}")
    try:
        day = value if isinstance(value, date) else date.fromisoformat(value)
    except ValueError:
        raise PolicyError(f"{key}: expected a date like 2025-12-24, got {value!r}") from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise PolicyError(f"{key}: expected a date in the years {EARLIEST_YEAR}-{LATEST_YEAR}, got {value!r}")
    return day


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{key}: expected true or false, got {value!r}")
    return value


def _whole(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WHOLE:
        raise PolicyError(f"{key}: expected a whole number from 0 to {MAX_WHOLE:.0e}, got {_short(value)}")
    return value


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_NUMBER:
        raise PolicyError(f"{key}: expected a number from 0 to {MAX_NUMBER:g}, got {_short(value)}")  # (NaN too)
    return float(value)


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"{key}: expected text, got {value!r}")
    return value


# The converter of each plain type a policy or scenario field may have: (TOML value, dotted key) -> value.
CONVERTERS: dict[type, Callable[[Any, str], Any]] = {
    timedelta: parse_duration, time: parse_clock, date: _date, bool: _bool, int: _whole, float: _number, str: _text,
}


def _annotated(value: Any, hint: Any, key: str) -> Any:
    base, *marks = typing.get_args(hint)
    if INFINITY_ALLOWED in marks and isinstance(value, float) and value == math.inf:
        return value
    return _convert(value, base, key)


def _tuple(value: Any, hint: Any, key: str) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise PolicyError(f"{key}: expected a list, got {value!r}")
    item = typing.get_args(hint)[0]
    return tuple(_convert(v, item, f"{key}[{i}]") for i, v in enumerate(value))


def _by_year(value: Any, hint: Any, key: str) -> dict[int, Any]:
    """A table keyed by year (the tax rates): the only dict a policy has."""
    if not isinstance(value, dict) or not value:
        raise PolicyError(f"{key}: expected a non-empty table, got {value!r}")
    out = {}
    for year, sub in value.items():
        if not re.fullmatch(r"[0-9]{4}", str(year), re.ASCII) or not EARLIEST_YEAR <= int(year) <= LATEST_YEAR:
            raise PolicyError(f"{key}.{year}: expected a year like 2025 ({EARLIEST_YEAR}-{LATEST_YEAR})")
        out[int(year)] = _convert(sub, typing.get_args(hint)[1], f"{key}.{year}")
    return out


# The converter of each generic form (by typing.get_origin): (TOML value, type hint, dotted key) -> value.
GENERIC_CONVERTERS: dict[Any, Callable[[Any, Any, str], Any]] = {
    typing.Annotated: _annotated, tuple: _tuple, dict: _by_year,
}


def _convert(value: Any, hint: Any, key: str) -> Any:
    """`value` as the type `hint` names: a plain type's converter, a generic form's, or a nested table."""
    plain = CONVERTERS.get(hint) if isinstance(hint, type) else None
    if plain is not None:
        return plain(value, key)
    generic = GENERIC_CONVERTERS.get(typing.get_origin(hint))
    if generic is not None:
        return generic(value, hint, key)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_table(hint, value, key)
    raise TypeError(f"unsupported policy type {hint!r} at {key}")  # a bug in this module, not in input


def from_table(cls: type[T], table: Any, prefix: str) -> T:
    """A frozen dataclass from a TOML table: every field required, unknown keys and bad values rejected with
    a `PolicyError` naming the dotted key (used for policies and planners' scenarios alike)."""
    if not isinstance(table, dict):
        raise PolicyError(f"{prefix}: expected a table")
    hints = typing.get_type_hints(cls, include_extras=True)
    names = [f.name for f in dataclasses.fields(typing.cast(Any, cls)) if f.name != "raw"]
    unknown = set(table) - set(names)
    if unknown:
        raise PolicyError(f"{prefix}.{sorted(unknown)[0]}: unknown key".lstrip("."))
    values = {}
    for name in names:
        key = f"{prefix}.{name}".lstrip(".")
        if name not in table:
            raise PolicyError(f"{key}: missing")
        values[name] = _convert(table[name], hints[name], key)
    return cls(**values)


def merge_tables(base: dict[str, Any], over: dict[str, Any], source: str, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """`over` laid over `base`, table by table; a key `base` does not have is an error naming it."""
    if not isinstance(over, dict):
        raise PolicyError(f"{'.'.join(path) or 'policy'}: expected a table, got {over!r} (in {source})")
    merged = dict(base)
    for key, value in over.items():
        here = (*path, str(key))
        if key not in base and path[-1:] != ("rates",):  # rate tables may add years
            raise PolicyError(f"{'.'.join(here)}: unknown key (in {source})")
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = merge_tables(base[key], value, source, here)
        else:
            merged[key] = value
    return merged


def _build(raw: dict[str, Any], source: str) -> Policy:
    policy = from_table(Policy, raw, "")
    tax = policy.completion_tax
    if tax.contact_window_opens >= tax.contact_window_closes:
        raise PolicyError(f"completion_tax.contact_window_opens: must be before contact_window_closes ({source})")
    if policy.risk.yellow_error_rate > policy.risk.red_error_rate:
        raise PolicyError(f"risk.yellow_error_rate: must not exceed red_error_rate ({source})")
    if policy.risk.red_error_rate > 1:
        raise PolicyError(f"risk.red_error_rate: a share of messages is at most 1 ({source})")
    return dataclasses.replace(policy, raw=raw)


MAX_TOML_DEPTH = 32  # no policy or scenario nests deeper than 4; deeper input would only exhaust the stack


class TomlSyntaxError(PolicyError):
    """Text that is not TOML at all (sweep's --vary then takes it as a bare word)."""


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """The one reader of every TOML text medcom is given (policy files, scenarios, calibrate's --base, sweep's
    --vary values): tables, or a `PolicyError` naming `source` in one line. tomllib itself raises RecursionError
    on deep nesting (5,000 '[') and ValueError on an integer longer than Python converts (5,000 digits); what it
    reads is then bounded in depth so that no recursive walk after it (merging, checking, reports) can overflow."""
    try:
        tables = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlSyntaxError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise PolicyError(f"{source}: not usable TOML: arrays or tables nested too deep") from None
    except ValueError as exc:  # int(): more digits than sys.get_int_max_str_digits()
        raise PolicyError(f"{source}: not usable TOML: {exc}") from None
    pending: list[tuple[Any, int]] = [(tables, 0)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_TOML_DEPTH:
            raise PolicyError(f"{source}: arrays or tables nested more than {MAX_TOML_DEPTH} deep")
        if isinstance(value, dict):
            pending += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            pending += [(v, depth + 1) for v in value]
    return tables


def read_toml_file(path: Path, what: str) -> dict[str, Any]:
    """A TOML file the user named (policy, scenario), read as `read_text_file` and parsed as `parse_toml`."""
    return parse_toml(read_text_file(path, what), str(path))


def default_policy_text() -> str:
    return resources.files("medcom.policy").joinpath("default.toml").read_text(encoding="utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """The shipped default policy, with the TOML file at `path` (any subset of keys) laid over it."""
    default = _build(parse_toml(default_policy_text(), "default policy"), "default policy")
    if path is None:
        return default
    path = Path(path)
    source = str(path)
    try:
        return default.with_overrides(read_toml_file(path, "policy file"), source)
    except PolicyError as exc:
        raise PolicyError(str(exc) if source in str(exc) else f"{source}: {exc}") from None


def read_text_file(path: Path, what: str) -> str:
    """A small UTF-8 text file the user named (policy, scenario); `PolicyError` naming the file when it
    cannot be read, is no regular file, is too large or is not UTF-8."""
    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PolicyError(f"{path}: {what} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line})") from None

