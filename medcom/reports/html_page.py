"""The shell of medcom's HTML reports: one self-contained file (inline CSS and script, no network)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from html import escape
from pathlib import Path

from medcom.reports.formatting import auto

CSS = """
:root { --ink: #1d2433; --muted: #5f6b7a; --line: #d8dee6; --hospital: #1f6fb2; --municipality: #2e8b57;
        --violation: #c62828; --tax: #f3c7c7; --r72: #e2d7f5; --ready: #e08a00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0 auto;
       max-width: 1180px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 0; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { font-weight: 600; background: #f5f7fa; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.controls { display: flex; gap: 12px; align-items: center; margin: 12px 0; padding: 10px; background: #f5f7fa;
            border-radius: 8px; }
.episode { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin: 12px 0; }
.episode header { display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
.sev-error { color: var(--violation); font-weight: 600; } .sev-warning { color: #a15c00; } .sev-info { color: #2b6f8a; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
.legend span { display: inline-block; margin-right: 14px; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin-right: 4px;
          border-radius: 2px; }
td.num span { white-space: nowrap; } table.narrow { width: auto; min-width: 360px; }
img { max-width: 100%; border: 1px solid var(--line); border-radius: 6px; }
.scroll { overflow-x: auto; max-width: 100%; }
td.num { overflow-wrap: break-word; } span.ci { color: var(--muted); white-space: nowrap; }
"""


def page(title: str, body: str, script: str = "", extra_css: str = "") -> str:
    """A complete HTML document; `body`, `script` and `extra_css` are trusted markup built with `escape`."""
    return "".join(page_chunks(title, [[body]], script, extra_css))


def page_chunks(title: str, parts: Iterable[Iterable[str]], script: str = "", extra_css: str = "") -> Iterator[str]:
    """`page` in pieces, for a page too large to hold: the body's `parts` one after another, a newline between
    two parts (each part itself pieces written as they come)."""
    yield (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
           f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
           f'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">\n'
           f"<title>{escape(title)}</title>\n<style>{CSS}{extra_css}</style>\n</head>\n<body>\n")
    for n, part in enumerate(parts):
        if n:
            yield "\n"
        yield from part
    yield f"\n{f'<script>{script}</script>' if script else ''}\n</body>\n</html>\n"


def num(value: float) -> str:
    """A figure as every report prints it (medcom.reports.formatting)."""
    return auto(value)


def image(chart: Path) -> str:
    """A PNG embedded in the page (no file beside it needed)."""
    data = base64.b64encode(chart.read_bytes()).decode("ascii")
    return f'<img alt="{escape(chart.stem)}" src="data:image/png;base64,{data}">'


def estimate_html(text: str) -> str:
    """'mean [low; high] (note)' as markup that wraps between its parts, never inside a figure: the mean in
    bold, the interval on its own line when the column is narrow."""
    mean, sep, rest = text.partition(" [")
    if not sep:
        return escape(text)
    interval, _, note = rest.partition("]")
    low, _, high = interval.partition("; ")
    return (f"<b>{escape(mean)}</b> <span class=\"ci\">[{escape(low)};</span> <span class=\"ci\">{escape(high)}]"
            f"</span>{escape(note)}")
