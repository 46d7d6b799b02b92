"""The sensitivity analysis (simulator/sensitivity.py) for people: a ranked table (text, HTML) and a tornado
chart (PNG) per headline, with what would settle each assumption."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from medcom.reports.formatting import estimate, number
from medcom.reports.html_page import image

TOP = 12  # rows a chart draws; the table lists every key


def _value(value: Any) -> str:
    if isinstance(value, list):
        return f"[{', '.join(number(v) for v in value)}]"
    return number(value, 0 if float(value).is_integer() or abs(value) >= 100 else 2 if abs(value) < 10 else 1)


def _signed(value: float) -> str:
    return ("+" if round(value) > 0 else "") + number(value)


def intro(s: dict) -> str:
    pct = number(s["fraction"] * 100)
    return (f"Sensitivity to the scenario's assumptions: each key below was set {pct} % lower and {pct} % higher "
            f"(shares at most 100 %, values within what a scenario allows) while the rest stayed, and the headline "
            f"({s['what']}) was simulated again with the same patients ({s['replications']} replications, common "
            f"random numbers). A change is of the headline as signed: a negative change makes a variant save more. "
            f"Keys are ranked by how far they move it; the top ones are where local data would change the answer "
            f"most.")


def rows(s: dict, headline: str) -> list[list[str]]:
    out = []
    for r in s["headlines"][headline]["keys"]:
        out.append([r["key"], r["mark"], f"{_value(r['low'])} / {_value(r['nominal'])} / {_value(r['high'])}",
                    _signed(r["change"][0]), _signed(r["change"][1]), r["settled_by"]])
    return out


def head(s: dict) -> list[str]:
    return ["key", "mark", "low / nominal / high", f"change at low, DKK ({s['prices']})",
            f"change at high, DKK ({s['prices']})", "settled by"]


def text_lines(s: dict) -> list[str]:
    import textwrap

    lines = textwrap.wrap(intro(s), 116)
    for headline, block in s["headlines"].items():
        lines += ["", f"{headline}: nominal {estimate(block['nominal'], 'dkk')} DKK ({s['prices']})"]
        table = rows(s, headline)
        titles = head(s)[:5]
        widths = [max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(titles)]
        lines.append("  " + "  ".join(f"{h:<{w}}" for h, w in zip(titles, widths, strict=True)) + "  settled by")
        lines += ["  " + "  ".join(f"{c:<{w}}" for c, w in zip(r[:5], widths, strict=True)) + f"  {r[5]}"
                  for r in table]
    if s["not_varied"]:
        lines += ["", "not varied: " + "; ".join(f"{k} ({why})" for k, why in s["not_varied"].items())]
    return lines


def html_section(s: dict, charts: list[Path]) -> str:
    parts = [f'<h2 id="sensitivity">Which assumptions move the answer</h2><p class="muted">{escape(intro(s))}</p>']
    parts += [image(c) for c in charts]
    for headline, block in s["headlines"].items():
        body = "".join("<tr>" + "".join(f'<td{" class=num" if 3 <= i <= 4 else ""}>{escape(c)}</td>'
                                        for i, c in enumerate(r)) + "</tr>" for r in rows(s, headline))
        parts.append(f'<h3>{escape(headline)}: nominal {escape(estimate(block["nominal"], "dkk"))} DKK '
                     f'({escape(s["prices"])})</h3>'
                     f'<table class="sensitivity" data-headline="{escape(headline)}"><thead><tr>'
                     + "".join(f"<th>{escape(h)}</th>" for h in head(s))
                     + f"</tr></thead><tbody>{body}</tbody></table>")
    if s["not_varied"]:
        parts.append('<p class="muted">Not varied: ' + escape("; ".join(f"{k} ({why})" for k, why in
                                                                       s["not_varied"].items())) + "</p>")
    return "\n".join(parts)


def tornado(s: dict, out: Path) -> Path:
    """sensitivity.png: per headline, the TOP keys' change at their low and high value, largest first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from medcom.reports.plots import figures_axis, save

    blocks = list(s["headlines"].items())
    heights = [min(TOP, len(b["keys"])) for _, b in blocks]
    fig, axes = plt.subplots(len(blocks), 1, figsize=(9, sum(0.38 * h + 1.4 for h in heights)), squeeze=False,
                             height_ratios=[h + 2 for h in heights])
    for ax, (headline, block) in zip(axes[:, 0], blocks, strict=True):
        keys = block["keys"][:TOP][::-1]
        ys = range(len(keys))
        ax.barh(ys, [k["change"][0] for k in keys], color="tab:blue", label=f"{number(s['fraction'] * 100)} % lower")
        ax.barh(ys, [k["change"][1] for k in keys], color="tab:orange", alpha=0.8,
                label=f"{number(s['fraction'] * 100)} % higher")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(list(ys), [k["key"] for k in keys])
        ax.set_title(f"{headline}: change of the headline, DKK ({s['prices']}); nominal "
                     f"{estimate(block['nominal'], 'dkk')}",
                     loc="left", fontsize=10)
        figures_axis(ax.xaxis, "dkk")
        ax.legend(loc="lower right", fontsize=8)
    return save(fig, out / "sensitivity.png")
