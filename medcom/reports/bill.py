"""Both sides of the bill (simulator/bill.py) for people: text and an HTML section.

Every DKK figure names its price year; kroner of different years are never netted (the row says why and how
to price both in one year); the sources and assumptions of the figures close the section.
"""

from __future__ import annotations

from html import escape

from medcom.identifiers import municipality_name
from medcom.reports.formatting import estimate, number

_VERDICT = {1: "positive", -1: "negative", 0: "cannot tell: the interval holds 0"}


def verdict(net: dict | None) -> str:
    if net is None:
        return "not netted: different price years"
    low, high = net["ci95"]
    if low == high == 0:
        return "no difference"
    return _VERDICT[1 if low > 0 else -1 if high < 0 else 0]


def net_value(block: dict) -> str:
    """A net with its interval and verdict, or why there is none."""
    if block["net_dkk"] is None:
        return f"not netted: {block.get('net_not_computed', 'different price years').removeprefix('not computed: ')}"
    return f"{estimate(block['net_dkk'], 'dkk')}: {verdict(block['net_dkk'])}"


def rows(block: dict, prices: dict[str, str], per: str) -> list[tuple[str, str, str]]:
    """(side, figure, value) rows of one variant's bill."""
    tax = block.get("completion_tax_prices", prices["completion_tax"])
    out: list[tuple[str, str, str]] = []
    for code, m in block["municipalities"].items():
        who = f"municipality {code} {m['name'] or ''}".rstrip()
        out += [(who, f"completion tax saved, DKK ({tax}) {per}", estimate(m["tax_saved_dkk"], "dkk")),
                (who, f"extra reception staffing, DKK ({prices['reception']}) {per}",
                 number(m["extra_staffing_dkk"])),
                (who, "net: tax saved − staffing", net_value(m))]
    if len(block["municipalities"]) > 1:
        t = block["municipality_total"]
        out += [("municipalities together", f"completion tax saved, DKK ({tax}) {per}",
                 estimate(t["tax_saved_dkk"], "dkk")),
                ("municipalities together", f"extra reception staffing, DKK ({prices['reception']}) {per}",
                 number(t["extra_staffing_dkk"])),
                ("municipalities together", "net", net_value(t))]
    r = block["region"]
    out += [("region", f"bed-days freed {per}", estimate(r["bed_days_freed"])),
            ("region", f"their value, DKK ({prices['bed_day']}) {per}", estimate(r["bed_days_value_dkk"], "dkk")),
            ("region", f"completion tax income forgone, DKK ({tax}) {per}",
             estimate(r["tax_income_forgone_dkk"], "dkk")),
            ("region", "net: value − income forgone", net_value(r))]
    return out


def _window(block: dict) -> str:
    w = block["window"]
    return (f"discharge window {'-'.join(w['base'])} ({number(w['hours'][0], 1)} h, {w['reception_days'][0]} "
            f"reception days) -> {'-'.join(w['variant'])} ({number(w['hours'][1], 1)} h, "
            f"{w['reception_days'][1]} reception days)")


def figure_text(f: dict) -> str:
    """'reception staffing: 2 191.78 DKK (2024 prices) per hour of ... (813 Frederikshavn Kommune). SOURCE: ...'"""
    values = []
    for key, value in f["dkk"].items():
        name = municipality_name(key)
        where = f"{key} {name}" if name else key
        values.append(f"{number(value, 0 if float(value).is_integer() else 2)} DKK ({where})")
    return f"{f['figure']}: {'; '.join(values)}, {f['prices']}, {f['unit']}. {f['source']}"


def bill_text(bill: dict, per: str) -> list[str]:
    lines = ["both sides of the bill: each variant against the base (mean [95 % CI] over replications; "
             "staffing is the same in every replication)"]
    for name, block in bill["variants"].items():
        lines += ["", f"variant {name}: {_window(block)}"]
        width = max(len(f) for _, f, _ in rows(block, bill["prices"], per))
        side = None
        for who, figure, value in rows(block, bill["prices"], per):
            if who != side:
                lines.append(f"  {who}")
                side = who
            lines.append(f"    {figure:<{width}}  {value}")
    lines += ["", "the figures the bill rests on:"]
    lines += [f"  {figure_text(f)}" for f in bill["figures"]]
    return lines


def bill_html(bill: dict, per: str) -> str:
    parts = ['<h2 id="bill">Both sides of the bill</h2><p class="muted">Each variant against the base: mean and '
             '95 % confidence interval over replications (paired: the same patients in both); the staffing is the '
             'same in every replication.</p>']
    for name, block in bill["variants"].items():
        body = "".join(f'<tr><td>{escape(who)}</td><td>{escape(figure)}</td><td class="num">{escape(value)}</td></tr>'
                       for who, figure, value in rows(block, bill["prices"], per))
        parts.append(f'<h3>{escape(name)}</h3><p class="muted">{escape(_window(block))}</p>'
                     f'<div class="scroll"><table class="bill" data-variant="{escape(name)}"><thead><tr><th>who</th>'
                     f'<th>figure</th><th class="num">value</th></tr></thead><tbody>{body}</tbody></table></div>')
    items = "".join(f"<li>{escape(figure_text(f))}</li>" for f in bill["figures"])
    parts.append(f'<p class="muted">The figures the bill rests on:</p><ul id="bill-sources">{items}</ul>')
    return "\n".join(parts)

