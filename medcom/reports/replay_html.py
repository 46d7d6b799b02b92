"""The replay report as one self-contained HTML page: summary, and per episode a timeline drawn as SVG.

The numbers come from the same typed report as `--format json` (medcom.reports.episode); the timelines from each
episode's drawing (messages, facts, deadlines, violations, ready time, tax days, the 72-hour window). Weekends and
public holidays are shaded (a deadline moved by Easter shows why), every marker carries a short label that
the legend explains, and an episode without the 72-hour responsibility says why (the rule's reason).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from html import escape
from itertools import islice

from medcom.calendar import BusinessCalendar, at_local, local_date
from medcom.engine.rules import hm
from medcom.identifiers import mask_cprs
from medcom.reports.deferred import Deferred
from medcom.reports.episode import Drawing, DrawnEvent, EpisodeReport, ReportedViolation, Responsibility
from medcom.reports.formatting import number, plural
from medcom.reports.html_page import num, page_chunks
from medcom.reports.replay import MAX_DRAWINGS, ReplayReport, short_time, where

MAX_DAY_LINES = 200  # midnights drawn per timeline; an episode spanning years gets a line per label only
MAX_TIMELINES = MAX_DRAWINGS  # episodes drawn; beyond this the page lists them without a drawing (it stays light)
MAX_SECTIONS = 2_000  # episodes with a section of details (the first, in name order); the index lists every one
WIDTH, LEFT, RIGHT = 1100, 96, 16
LANES = {"hospital": 28, "municipality": 56, "facts": 84, "deadlines": 112}
HEIGHT = 150
FACTS = frozenset({"ready_for_discharge", "admitted", "discharged"})  # drawn in the facts lane
# The short label drawn above each marker, and what it means (the legend lists them all).
LABELS = {
    "admitted": ("adm", "admitted"), "discharged": ("dis", "discharged"), "ready_for_discharge": ("ready", "ready"),
    "admission_advice_sent": ("AA", "admission advice"), "admission_report_sent": ("AR", "admission report"),
    "care_plan_sent": ("CP", "care plan"), "care_plan_ack_sent": ("ACK", "acknowledgement of the care plan"),
    "correspondence_sent": ("COR", "correspondence"), "completion_notice_sent": ("FM", "completion notice"),
    "discharge_advice_sent": ("DA", "discharge advice"), "discharge_report_sent": ("DR", "discharge report"),
    "receipt_sent": ("r", "receipt"), "phone_call": ("tel", "phone call"), "leave_notice_sent": ("LV", "leave notice"),
    "conference_ready": ("conf", "ready for the discharge conference"),
    "guardianship_info_sent": ("GI", "guardianship information"), "terminal": ("term", "terminal declaration"),
    "leave_started": ("leave", "leave started"), "leave_ended": ("back", "leave ended"),
    "responsibility_extended": ("R72+", "responsibility extended"), "deceased": ("died", "deceased"),
}


def _instant(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


class _Axis:
    def __init__(self, start: datetime, end: datetime, width: float = WIDTH) -> None:
        self.start, self.span, self.width = start, max((end - start).total_seconds(), 3600.0), width

    def x(self, at: datetime) -> float:
        return LEFT + (at - self.start).total_seconds() / self.span * (self.width - LEFT - RIGHT)


def _marker(x: float, y: float, shape: str, colour: str, title: str) -> str:
    tip = f"<title>{escape(title)}</title>"
    if shape == "diamond":
        return (f'<path d="M{x:.1f},{y - 7} L{x + 7:.1f},{y} L{x:.1f},{y + 7} L{x - 7:.1f},{y} Z" fill="{colour}">'
                f"{tip}</path>")
    if shape == "square":
        return f'<rect x="{x - 5:.1f}" y="{y - 5}" width="10" height="10" fill="{colour}">{tip}</rect>'
    if shape == "triangle":
        return (f'<path d="M{x:.1f},{y - 6} L{x + 6:.1f},{y + 5} L{x - 6:.1f},{y + 5} Z" fill="{colour}">'
                f"{tip}</path>")
    if shape == "cross":
        return (f'<path d="M{x - 6:.1f},{y - 6} L{x + 6:.1f},{y + 6} M{x + 6:.1f},{y - 6} L{x - 6:.1f},{y + 6}" '
                f'stroke="{colour}" stroke-width="3" class="violation-mark">{tip}</path>')
    return f'<circle cx="{x:.1f}" cy="{y}" r="5" fill="{colour}">{tip}</circle>'


def _lane_of(e: DrawnEvent) -> tuple[str, str, str]:
    """(lane, shape, colour) for an event: facts in their lane, messages, calls and receipts on their sender's
    (`DrawnEvent.side`); a receipt whose message the episode lacks, in the facts lane."""
    if e.kind in FACTS:
        return "facts", "diamond" if e.kind == "ready_for_discharge" else "square", \
            "var(--ready)" if e.kind == "ready_for_discharge" else "var(--ink)"
    if e.kind == "phone_call":
        return e.side, "triangle", "#6d4c41"
    if e.side:
        return e.side, "circle", f"var(--{e.side})"
    if e.kind == "receipt_sent":
        return "facts", "circle", "#7a7a7a"  # whose receipt it is cannot be told
    return "facts", "square", "#7a7a7a"


LABEL_CHAR, LABEL_GAP = 5.6, 3.0  # width of a label character at 9 px, and the least room between two labels
TICK_LABEL = 72.0  # room a date label "Mon 03 Feb" needs on the axis (11 px), in viewBox units
DAY_PX = 48.0  # the least room a day gets: a stay longer than the width allows widens its drawing (it scrolls)


def _label_width(text: str) -> float:
    return len(text) * LABEL_CHAR


def _lay_labels(marks: list[tuple[float, str, str]]) -> list[tuple[float, str, str, int, int]]:
    """Labels for one lane's markers (x, short label, title), laid out so that none overlaps another: markers
    whose labels would touch share one label ("CP/r", their titles in its tooltip), and neighbouring labels
    alternate between two rows only where one row has no room. Returns (x, text, titles, row, markers)."""
    groups: list[list[tuple[float, str, str]]] = []
    for mark in sorted(marks):
        if groups:
            last = groups[-1]
            text = "/".join(dict.fromkeys(m[1] for m in last))
            centre = (last[0][0] + last[-1][0]) / 2
            if mark[0] - _label_width(mark[1]) / 2 < centre + _label_width(text) / 2 + LABEL_GAP:
                last.append(mark)
                continue
        groups.append([mark])
    laid: list[tuple[float, str, str, int, int]] = []
    ends = [float("-inf"), float("-inf")]  # where the last label of each row ends
    for group in groups:
        text = "/".join(dict.fromkeys(m[1] for m in group))
        x = (group[0][0] + group[-1][0]) / 2
        start, end = x - _label_width(text) / 2, x + _label_width(text) / 2
        row = 0 if start >= ends[0] + LABEL_GAP else 1 if start >= ends[1] + LABEL_GAP else \
            min((0, 1), key=lambda r: ends[r])
        ends[row] = end
        laid.append((x, text, "; ".join(m[2] for m in group), row, len(group)))
    return laid


def _label(x: float, y: float, text: str, row: int, title: str = "", count: int = 1) -> str:
    """A label above its markers (`count` of them; the second row a little higher)."""
    return (f'<text x="{x:.1f}" y="{y - 9 - 10 * row}" class="marker-label" text-anchor="middle" '
            f'data-count="{count}">{escape(text)}<title>{escape(title)}</title></text>')


def _tick_step(days: int, width: float) -> int:
    """Days between two date labels so that labels never run into each other at this drawing's width: 1, 2, 7,
    14, or a multiple of 30."""
    per_day = (width - LEFT - RIGHT) / max(days, 1)
    need = TICK_LABEL / per_day
    for step in (1, 2, 7, 14):
        if step >= need:
            return step
    return 30 * math.ceil(need / 30)


def _closed_days(axis: _Axis, first: datetime, last: datetime, calendar: BusinessCalendar) -> list[str]:
    """Shading for the weekends and public holidays between `first` and `last`."""
    out, day = [], local_date(first)
    while day <= local_date(last):
        holiday = calendar.holiday_name(day)
        if holiday or day.weekday() >= 5:
            x0 = max(axis.x(at_local(day, datetime.min.time())), float(LEFT))
            x1 = min(axis.x(at_local(day + timedelta(days=1), datetime.min.time())), float(axis.width - RIGHT))
            kind = "holiday" if holiday else "weekend"
            out.append(f'<rect x="{x0:.1f}" y="8" width="{max(x1 - x0, 0.5):.1f}" height="{HEIGHT - 30}" '
                       f'class="{kind}" fill="var(--{kind})"><title>{day:%A %d %B %Y}'
                       f'{": " + escape(holiday) if holiday else ""}</title></rect>')
        day += timedelta(days=1)
    return out


def timeline_svg(entry: EpisodeReport, drawing: Drawing, calendar: BusinessCalendar | None = None) -> str:
    """The episode drawn on a time axis: lanes for hospital and municipality messages, facts, deadlines;
    weekends and holidays (of `calendar`, the policy's) shaded."""
    times = [e.at for e in drawing.events]
    until = drawing.until
    dues = [t for v in entry.violations for t in (_instant(v.due), _instant(v.actual)) if t is not None]
    start, end = min(times), max([*times, *([until] if until else []), *dues])
    start, end = start - (end - start) * 0.02, end + (end - start) * 0.02 + timedelta(minutes=30)
    span_days = (end - start).total_seconds() / 86400
    width = min(max(float(WIDTH), LEFT + RIGHT + span_days * DAY_PX), float(WIDTH * 4))  # a long stay: wider
    axis = _Axis(start, end, width)
    wide = f' style="min-width:{width:.0f}px"' if width > WIDTH else ""
    parts = [f'<div class="timeline-box"><svg class="timeline" viewBox="0 0 {width:.0f} {HEIGHT}" width="100%"'
             f'{wide} role="img" aria-label="timeline of {escape(entry.name)}">']
    if (local_date(end) - local_date(start)).days <= MAX_DAY_LINES:
        parts += _closed_days(axis, start, end, calendar or BusinessCalendar())
    tax_start, discharged = drawing.tax_start, drawing.discharged_at
    if tax_start is not None and discharged is not None and entry.tax_days:
        x0, x1 = axis.x(tax_start), axis.x(discharged)
        parts.append(f'<rect x="{x0:.1f}" y="8" width="{max(x1 - x0, 1):.1f}" height="{HEIGHT - 30}" '
                     f'fill="var(--tax)" class="tax-band"><title>completion tax from {hm(tax_start)}: '
                     f'{plural(entry.tax_days, "day")}</title></rect>')
    if until is not None and discharged is not None:
        x0, x1 = axis.x(discharged), axis.x(until)
        parts.append(f'<rect x="{x0:.1f}" y="8" width="{max(x1 - x0, 1):.1f}" height="{HEIGHT - 30}" '
                     f'fill="var(--r72)" class="r72-band"><title>72-hour responsibility until {hm(until)}'
                     f'</title></rect>')
    day, last = local_date(start), local_date(end)
    days = (last - day).days + 1
    step = _tick_step(days, width)  # days between date labels
    grid = 1 if days <= MAX_DAY_LINES else step  # a line a midnight; for a long episode, one a label
    while day <= last:
        midnight = at_local(day, datetime.min.time())
        if midnight >= start:
            x = axis.x(midnight)
            parts.append(f'<line x1="{x:.1f}" y1="8" x2="{x:.1f}" y2="{HEIGHT - 22}" stroke="var(--line)"/>')
            if (day - local_date(start)).days % step == 0 and x + TICK_LABEL <= width:
                parts.append(f'<text x="{x + 2:.1f}" y="{HEIGHT - 8}" class="tick">{day:%d %b %Y}</text>'
                             if step >= 30 else f'<text x="{x + 2:.1f}" y="{HEIGHT - 8}" class="tick">'
                             f'{day:%a %d %b}</text>')
        day += timedelta(days=grid)
    for lane, y in LANES.items():
        parts.append(f'<text x="4" y="{y + 4}" class="muted">{lane}</text>'
                     f'<line x1="{LEFT}" y1="{y}" x2="{width - RIGHT:.0f}" y2="{y}" stroke="#eef1f5"/>')
    marks: dict[str, list[tuple[float, str, str]]] = {lane: [] for lane in LANES}
    for e in drawing.events:  # in time order
        lane, shape, colour = _lane_of(e)
        short = LABELS.get(e.kind, (e.kind, e.kind))[0]
        title = f"{e.kind}{' ' + e.id if e.id else ''} — {hm(e.at)}"
        x = axis.x(e.at)
        parts.append(_marker(x, LANES[lane], shape, colour, title))
        marks[lane].append((x, short, title))
    for lane, lane_marks in marks.items():
        for x, text, titles, row, count in _lay_labels(lane_marks):
            parts.append(_label(x, LANES[lane], text, row, titles, count))
    y = LANES["deadlines"]
    for v in entry.violations:
        due, actual = _instant(v.due), _instant(v.actual)
        if due is not None:
            x = axis.x(due)
            parts.append(f'<line x1="{x:.1f}" y1="8" x2="{x:.1f}" y2="{HEIGHT - 22}" stroke="var(--violation)" '
                         f'stroke-dasharray="4 3" data-rule="{escape(v.rule)}"><title>{escape(v.rule)} due '
                         f'{hm(due)}</title></line>')
        at = actual or due
        if at is not None:
            parts.append(_marker(axis.x(at), y, "cross", "var(--violation)",
                                 f"{v.rule}: {v.text} (due {short_time(v.due)}, actual {short_time(v.actual)})"))
    parts.append("</svg></div>")
    return "".join(parts)


def _r72(r72: Responsibility) -> str:
    if r72.applies:
        return "until " + short_time(r72.until)
    return "does not apply" + (f" ({r72.reason})" if r72.reason else "")


def _places(v: ReportedViolation) -> str:
    """The violation's messages, each with its file (and wrapper path) and line, one a line."""
    return "<br>".join(f'<span class="place">{escape(where(p))}</span>' for p in v.messages)


def _index(report: ReplayReport, sections: Deferred, calendar: BusinessCalendar, rates: str | None,
           ) -> Iterator[str]:
    """A table of every episode at the top, each row a link to its timeline, sortable by any column (tax,
    rules, municipality ...): a log of hundreds of episodes is read from here, not by scrolling. Each episode's
    section is made as its row is, and put aside in `sections` for later in the page (the episodes are read
    once); only the first `MAX_SECTIONS` have one (a section for each of a million messages' 71,000 episodes would
    make a page of about 130 MB, more than a browser opens), the rows of the rest link nowhere."""
    heads = [("episode", "text"), ("municipality", "text"), ("state", "text"), ("admitted", "text"),
             ("tax days", "number"), ("tax, DKK", "number"), ("violations", "number"), ("rules", "text")]
    head = "".join(f'<th data-sort="{kind}" data-column="{n}" class="{"num" if kind == "number" else ""}">'
                   f'{escape(name)}</th>' for n, (name, kind) in enumerate(heads))
    yield (f'<h2 id="episode-index">Episodes at a glance</h2><p class="muted">Click a column to sort; an episode '
           f'to go to its timeline.</p><div id="index-box"><table id="index"><thead><tr>{head}</tr></thead>'
           f'<tbody>')
    for i, e in enumerate(report.entries()):
        municipality, episode = e.municipality, escape(e.episode)
        rules = sorted({v.rule for v in e.violations})
        detailed = i < MAX_SECTIONS
        yield (f'<tr data-episode="{episode}"><td data-value="{episode}">'
               + (f'<a href="#episode-{i}">{episode}</a></td>' if detailed else f'{episode}</td>') +
               f'<td data-value="{escape(municipality)}">{escape(municipality)}</td>'
               f'<td data-value="{escape(e.state)}">{escape(e.state)}</td>'
               f'<td data-value="{escape(e.admitted or "")}">{short_time(e.admitted)}</td>'
               f'<td class="num" data-value="{e.tax_days}">{e.tax_days}</td>'
               f'<td class="num" data-value="{e.tax_dkk}">{num(e.tax_dkk)}</td>'
               f'<td class="num" data-value="{len(e.violations)}">{len(e.violations)}</td>'
               f'<td data-value="{escape(" ".join(rules))}">{escape(", ".join(rules)) or "-"}</td></tr>')
        if detailed:
            sections.add([_episode_section(e, i < MAX_TIMELINES, calendar, rates, i)])
    yield "</tbody></table></div>"


def _episode_section(entry: EpisodeReport, draw: bool, calendar: BusinessCalendar | None = None,
                     rates: str | None = None, number_: int = 0) -> str:
    rules = sorted(entry.rules)
    head = (f'<header><h3>{escape(entry.episode)}</h3>'
            f'<span class="muted">patient {escape(entry.patient or "-")}</span>'
            f'<span>tax {plural(entry.tax_days, "day")}, {num(entry.tax_dkk)} DKK'
            f'{escape(f" ({rates})") if rates and entry.tax_dkk else ""}'
            f'{", disputable " + str(entry.disputable_days) if entry.disputable_days else ""}</span>'
            f'<span class="r72">72 h: {escape(_r72(entry.responsibility))}</span>'
            f'<span class="count">{plural(len(entry.violations), "violation")}</span>'
            f'<a class="to-index" href="#episode-index">episodes ↑</a></header>')
    body = [head]
    if draw and entry.drawing is not None and entry.drawing.events:
        body.append(timeline_svg(entry, entry.drawing, calendar))
    if entry.violations:
        rows = "".join(
            f'<tr data-rule="{escape(v.rule)}"><td>{escape(v.rule)}</td>'
            f'<td class="sev-{escape(v.severity)}">{escape(v.severity)}</td><td>{short_time(v.due)}</td>'
            f'<td>{short_time(v.actual)}</td><td class="places">{_places(v)}</td>'
            f'<td>{escape(v.text)}</td></tr>' for v in entry.violations)
        body.append("<table class=\"violations\"><thead><tr><th>rule</th><th>severity</th><th>due</th>"
                    f"<th>actual</th><th>messages</th><th>what</th></tr></thead><tbody>{rows}</tbody></table>")
    if entry.obligations:
        items = "".join(f'<li data-rule="{escape(o.rule)}"><b>{escape(o.rule)}</b> {escape(o.text)}</li>'
                        for o in entry.obligations)
        body.append(f'<p class="muted">Obligations the log cannot show kept or broken:</p><ul>{items}</ul>')
    tax = entry.tax
    if tax is not None and entry.tax_days:
        counted = tax.counted_dates
        dates = escape(", ".join(counted[:MAX_DAY_LINES]))
        dates += f" and {number(len(counted) - MAX_DAY_LINES)} more" if len(counted) > MAX_DAY_LINES else ""
        reason = ". " + escape(tax.disputable_reason) if tax.disputable_reason else ""
        body.append(f'<p class="muted">Tax counted from {short_time(tax.start)}: {dates}{reason}</p>')
    return (f'<section class="episode" id="episode-{number_}" data-episode="{escape(entry.episode)}" '
            f'data-rules="{escape(" ".join(rules))}">' + "".join(body) + "</section>")


SCRIPT = """
const ruleFilter = document.getElementById('rule-filter');
const episodeFilter = document.getElementById('episode-filter');
function applyFilters() {
  const rule = ruleFilter.value, text = episodeFilter.value.trim().toLowerCase();
  let shown = 0;
  for (const section of document.querySelectorAll('section.episode')) {
    const rules = section.dataset.rules.split(' ');
    const keep = (!rule || rules.includes(rule)) && (!text || section.dataset.episode.toLowerCase().includes(text));
    section.hidden = !keep;
    if (keep) shown++;
    for (const row of section.querySelectorAll('[data-rule]')) row.hidden = !!rule && row.dataset.rule !== rule;
  }
  document.getElementById('shown').textContent = shown;
}
for (const th of document.querySelectorAll('#index th[data-sort]')) {
  th.addEventListener('click', () => {
    const body = th.closest('table').tBodies[0], column = Number(th.dataset.column);
    const up = th.getAttribute('aria-sort') !== 'ascending';
    for (const other of th.parentNode.children) other.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
    const key = row => row.cells[column].dataset.value;
    const rows = [...body.rows].sort((a, b) => {
      const order = th.dataset.sort === 'number' ? Number(key(a)) - Number(key(b))
        : key(a).localeCompare(key(b), 'da', {numeric: true});
      return up ? order : -order;
    });
    for (const row of rows) body.appendChild(row);
  });
}
ruleFilter.addEventListener('change', applyFilters);
episodeFilter.addEventListener('input', applyFilters);
applyFilters();
"""


def to_html(report: ReplayReport, source: str, calendar: BusinessCalendar | None = None) -> str:
    """The whole page (see `html_chunks`)."""
    return "".join(html_chunks(report, source, calendar))


def html_chunks(report: ReplayReport, source: str, calendar: BusinessCalendar | None = None) -> Iterator[str]:
    """The page for a replay report in pieces, written episode by episode from the report's entries (a log of
    any size: the episodes are never all held); masked unless the report shows CPR numbers (a piece ends between
    elements, so a CPR number is never cut in two). `calendar`: the policy's, for the weekend and holiday
    shading."""
    chunks = page_chunks("medcom replay", _body(report, source, calendar or BusinessCalendar()), SCRIPT,
                         extra_css=EXTRA_CSS)
    return chunks if report.show_cpr else (mask_cprs(chunk) for chunk in chunks)


def _legend() -> str:
    """What every colour, band, shape and label of the timelines means."""
    def shape(svg: str) -> str:
        return f'<svg class="legend-shape" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">{svg}</svg>'

    items = [
        (shape('<circle cx="8" cy="8" r="5" fill="var(--hospital)"/>'), "hospital message"),
        (shape('<circle cx="8" cy="8" r="5" fill="var(--municipality)"/>'), "municipality message"),
        (shape('<rect x="3" y="3" width="10" height="10" fill="var(--ink)"/>'), "admitted, discharged"),
        (shape('<path d="M8,1 L15,8 L8,15 L1,8 Z" fill="var(--ready)"/>'), "ready for discharge"),
        (shape('<path d="M8,2 L14,13 L2,13 Z" fill="#6d4c41"/>'), "phone call"),
        (shape('<path d="M2,2 L14,14 M14,2 L2,14" stroke="var(--violation)" stroke-width="3"/>'),
         "violation (dashed line: its deadline)"),
        ('<i class="swatch" style="background:var(--tax)"></i>', "completion-tax days"),
        ('<i class="swatch" style="background:var(--r72)"></i>', "72-hour window"),
        ('<i class="swatch" style="background:var(--weekend)"></i>', "weekend"),
        ('<i class="swatch" style="background:var(--holiday)"></i>', "public holiday"),
    ]
    kinds = "".join(f'<span data-label="{escape(short)}"><b>{escape(short)}</b> {escape(meaning)}</span>'
                    for short, meaning in LABELS.values())
    return ('<div class="legend muted" id="legend"><p>' + "".join(
        f'<span data-kind="{escape(text)}">{mark}{escape(text)}</span>' for mark, text in items) + "</p>"
        f'<p class="labels">Labels: {kinds}</p></div>')


EXTRA_CSS = """
:root { --weekend: #f1f3f6; --holiday: #fde9c8; }
.marker-label { font-size: 9px; fill: var(--muted); }
.timeline-box { overflow-x: auto; }
#index-box { max-height: 24rem; overflow: auto; }
#index th[data-sort] { cursor: pointer; text-decoration: underline dotted; }
#index th[aria-sort="ascending"]::after { content: " ▲"; }
#index th[aria-sort="descending"]::after { content: " ▼"; }
.to-index { font-size: 12px; margin-left: auto; }
td.places { font-size: 12px; overflow-wrap: anywhere; }
.violations td:first-child { white-space: nowrap; }
.legend-shape { vertical-align: -3px; margin-right: 4px; }
.legend .labels span { margin-right: 10px; }
"""


def _body(report: ReplayReport, source: str, calendar: BusinessCalendar) -> Iterator[Iterable[str]]:
    """The page's body, part by part."""
    inputs, summary = report.counts, report.summary
    by_rule = dict(sorted(summary.by_rule.items()))
    cards = [("episodes", summary.episodes), ("inputs", inputs.messages), ("accepted", inputs.accepted),
             ("rejected", inputs.rejected), ("duplicates", inputs.duplicates),
             ("completion-tax days", summary.completion_tax_days),
             ("completion tax, DKK", summary.completion_tax_dkk), ("violations", sum(by_rule.values()))]
    rates = report.rates_text()
    yield [f"<h1>medcom replay</h1><p class=\"muted\">{escape(source)} — the same numbers as "
           f"<code>--format json</code>; CPR numbers masked unless --show-cpr.</p>"]
    yield [f'<p id="policy">policy: {escape(report.policy)}</p>']
    yield ['<div class="cards" id="summary">' + "".join(
        f'<div class="card" data-key="{escape(k)}"><span class="muted">{escape(k)}'
        f'{escape(f" ({rates})") if rates and k.endswith("DKK") else ""}</span><b>{num(v)}</b></div>'
        for k, v in cards) + "</div>"]
    sections = Deferred()
    yield _index(report, sections, calendar, rates)
    rows = "".join(f'<tr><td>{escape(r)}</td><td class="num">{n}</td></tr>' for r, n in by_rule.items())
    yield [f'<h2>Violations by rule</h2><table id="by-rule"><thead><tr><th>rule</th><th class="num">violations'
           f'</th></tr></thead><tbody>{rows or "<tr><td colspan=2>none</td></tr>"}</tbody></table>']
    findings = report.findings
    if findings:
        rows = "".join(f'<tr><td>{escape(f.file)}</td><td>{f.line or ""}</td><td>{escape(f.rule)}</td>'
                       f'<td class="sev-{escape(f.severity)}">{escape(f.severity)}</td>'
                       f'<td>{escape(f.text)}</td></tr>' for f in islice(findings, 500))
        more = f"<p class=\"muted\">… and {len(findings) - 500} more (see --format json)</p>" \
            if len(findings) > 500 else ""
        yield [f"<h2>Input findings</h2><table><thead><tr><th>file</th><th>line</th><th>rule</th>"
               f"<th>severity</th><th>what</th></tr></thead><tbody>{rows}</tbody></table>{more}"]
    options = "".join(f'<option value="{escape(r)}">{escape(r)}</option>' for r in sorted(summary.rules))
    yield [f'<h2>Episodes</h2><div class="controls"><label>rule <select id="rule-filter"><option value="">all'
           f'</option>{options}</select></label><label>episode <input id="episode-filter" type="search" '
           f'placeholder="name contains"></label><span class="muted"><span id="shown"></span> of '
           f'{summary.episodes} shown</span></div>']
    yield [_legend()]
    if summary.episodes > MAX_SECTIONS:
        yield [f'<p class="muted" id="first-sections">Details are shown for the first {number(MAX_SECTIONS)} of '
               f'{number(summary.episodes)} episodes (the index above lists them all) and timelines drawn for the '
               f'first {MAX_TIMELINES}; filter with --episode or --rule to see others, or read --format json.</p>']
    elif summary.episodes > MAX_TIMELINES:
        yield [f'<p class="muted">Timelines are drawn for the first {MAX_TIMELINES} episodes; filter with '
               f'--episode or --rule to draw others.</p>']
    for section in sections.pieces():
        yield [section]
