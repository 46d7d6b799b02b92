"""HTML reports in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Skipped, with the reason, where Chromium or Playwright is absent; `.ci/run` installs Chromium when it can.
"""

from __future__ import annotations

import json
import shutil
from datetime import time
from pathlib import Path

import pytest
from helpers import EXAMPLES
from helpers.cli import medcom
from helpers.scenarios import SHIPPED, WEEK, scenario_file

from simulator.run import emit_log
from simulator.scenario import load_scenario

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian package chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


def open_page(browser, path: Path, width: int = 1200):
    page = browser.new_page(viewport={"width": width, "height": 1400})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: errors.append(f"network request {req.url}")
            if not req.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri())
    return page, errors


OVERLAPS = """() => { const out = [];
  for (const svg of document.querySelectorAll('svg.timeline')) {
    const boxes = [...svg.querySelectorAll('text.marker-label, text.tick')].map(t => [t.textContent, t.getBBox()]);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [ka, a] = boxes[i], [kb, b] = boxes[j];
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height)
        out.push([svg.getAttribute('aria-label'), ka, kb]);
    } }
  return out; }"""


@pytest.mark.slow
def test_a_long_log_and_long_stays_stay_readable(browser, tmp_path: Path) -> None:
    """A simulated fortnight (about 190 episodes, stays up to several weeks): no overlapping labels or dates in
    any timeline, at 1,400 and 800 px; stays longer than the drawing's width allows are drawn wider."""
    log = tmp_path / "log"  # what `medcom simulate --emit-log` writes (replication 1), without simulating the
    emit_log(load_scenario(EXAMPLES / "small-scenario.toml"), log, formats="oioxml")  # replications and variants
    html = tmp_path / "replay.html"
    assert medcom("replay", str(log), "--format", "html", "--out", str(html)).exit_code in (0, 1)
    for width in (1400, 800):
        page, errors = open_page(browser, html, width=width)
        assert page.locator("#index tbody tr").count() == page.locator("section.episode").count() > 100
        assert page.evaluate(OVERLAPS) == []
        assert page.locator("svg.timeline[style*=min-width]").count() > 0  # the long stays
        page.screenshot(path=str(tmp_path / f"long-{width}.png"))
        assert errors == []


def test_replay_report_in_the_browser(browser, tmp_path: Path) -> None:
    log = EXAMPLES / "log"
    html = tmp_path / "replay.html"
    assert medcom("replay", str(log), "--format", "html", "--out", str(html)).exit_code == 0
    report = json.loads(medcom("replay", str(log), "--format", "json").stdout)
    page, errors = open_page(browser, html)
    cards = {page.locator(f'#summary [data-key="{key}"] b').inner_text().replace("\u202f", ""): key
             for key in ("episodes", "completion-tax days", "completion tax, DKK", "inputs", "rejected")}
    assert cards == {str(report["summary"]["episodes"]): "episodes",
                     str(report["summary"]["completion_tax_days"]): "completion-tax days",
                     str(report["summary"]["completion_tax_dkk"]): "completion tax, DKK",
                     str(report["inputs"]["messages"]): "inputs", str(report["inputs"]["rejected"]): "rejected"}
    assert page.locator("section.episode").count() == len(report["episodes"])
    assert page.locator("svg.timeline").count() == len(report["episodes"])
    assert page.locator("svg .tax-band").count() == sum(1 for e in report["episodes"] if e["completion_tax_days"])
    assert page.locator("svg .r72-band").count() == sum(1 for e in report["episodes"]
                                                        if e["extended_responsibility"]["applies"])
    assert "2509479989" not in page.content()
    page.select_option("#rule-filter", "CP-1")
    visible = [s.get_attribute("data-episode") for s in page.locator("section.episode").all() if s.is_visible()]
    assert visible == [e["episode"] for e in report["episodes"] if any(v["rule"] == "CP-1" for v in e["violations"])]
    assert page.locator("#shown").inner_text() == str(len(visible))
    page.select_option("#rule-filter", "")
    page.fill("#episode-filter", "E3")
    assert [s.get_attribute("data-episode") for s in page.locator("section.episode").all() if s.is_visible()] == ["E3"]
    page.fill("#episode-filter", "")
    # What a planner reads on the timelines: Easter shaded, a label on every marker, every shape in the legend,
    # and why the 72-hour responsibility does not apply.
    easter = page.locator('section.episode[data-episode="E2"] svg rect.holiday')
    assert easter.count() == 4  # Maundy Thursday, Good Friday, Easter Sunday, Easter Monday 2025
    assert page.locator('section.episode[data-episode="E2"] svg rect.weekend').count() == 1  # Saturday 19 April
    titles = [t.text_content() for t in page.locator('section.episode[data-episode="E2"] svg rect.holiday title').all()]
    assert all("April 2025: " in t for t in titles), titles
    for section in page.locator("section.episode").all():
        markers = section.locator("svg circle, svg rect:not(.tax-band):not(.r72-band):not(.weekend):not(.holiday), "
                                  "svg path:not(.violation-mark)")
        labelled = sum(int(t.get_attribute("data-count")) for t in section.locator("svg text.marker-label").all())
        assert labelled == markers.count() > 0  # every marker named (neighbours share a label: "CP/tel")
    legend = page.locator("#legend")
    for kind in ("admitted, discharged", "ready for discharge", "phone call", "weekend", "public holiday"):
        assert legend.locator(f'[data-kind="{kind}"]').count() == 1, kind
    assert legend.locator('[data-kind="admitted, discharged"] svg rect').count() == 1
    labels = {e.get_attribute("data-label") for e in legend.locator(".labels span").all()}
    drawn = {part for t in page.locator("svg text.marker-label").all()
             for part in t.evaluate("t => t.firstChild.textContent").split("/")}
    assert drawn <= labels
    assert page.evaluate(OVERLAPS) == []  # no label or date runs into another (screenshots 5 and 6)
    # The index: every episode, a link to its timeline, sortable by tax.
    index = page.locator("#index tbody tr")
    assert [r.get_attribute("data-episode") for r in index.all()] == [e["episode"] for e in report["episodes"]]
    page.locator('#index th:has-text("tax days")').click()
    page.locator('#index th:has-text("tax days")').click()  # descending: the taxed episode first
    assert index.first.get_attribute("data-episode") == max(report["episodes"],
                                                              key=lambda e: e["completion_tax_days"])["episode"]
    target = index.first.locator("a").get_attribute("href")
    assert page.locator(f"section.episode{target}").get_attribute("data-episode") == index.first.get_attribute(
        "data-episode")
    for entry in report["episodes"]:
        r72 = page.locator(f'section.episode[data-episode="{entry["episode"]}"] .r72').inner_text()
        reason = entry["extended_responsibility"]["reason"]
        assert r72 == (f"72 h: does not apply ({reason})" if reason else
                       f"72 h: until {entry['extended_responsibility']['until'][:16].replace('T', ' ')}")
    assert any(e["extended_responsibility"]["reason"] == "destination not covered: home" for e in report["episodes"])
    assert "(2016 rates)" in page.locator('#summary [data-key="completion tax, DKK"] span').inner_text()
    assert "3\u202f952 DKK (2016 rates)" in page.locator('section.episode[data-episode="E2"] header').inner_text()
    page.screenshot(path=str(tmp_path / "replay.png"), full_page=True)
    assert (tmp_path / "replay.png").stat().st_size > 10_000
    assert errors == []


LAYOUT = """() => {
  const problems = [];
  if (document.documentElement.scrollWidth > innerWidth) problems.push('page ' + document.documentElement.scrollWidth);
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > innerWidth + 0.5) problems.push(e.tagName + '.' + e.className + ' ends at ' + r.right);
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      problems.push(e.tagName + '.' + e.className + ' scrolls ' + e.scrollWidth + ' > ' + e.clientWidth);
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def four_variants(tmp_path_factory) -> tuple[Path, dict]:
    """The 12-vs-14 scenario with three more variants (four in all), over two weeks, as HTML and JSON."""
    tmp_path = tmp_path_factory.mktemp("four")
    more = {f"window-{end}": {"description": f"receptions until {end}:00",
                              "municipality": {"discharge_window_end": time(end)}} for end in (13, 15, 16)}
    scenario = scenario_file(tmp_path / "small.toml", SHIPPED["twelve"], {**WEEK, "run.horizon_days": 14},
                             more_variants=more)
    run = medcom("simulate", str(scenario), "--format", "html", "--out", str(tmp_path / "out"))
    assert run.exit_code == 0, run.stderr
    return tmp_path / "out", json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("width", [800, 1400])
def test_the_planner_page_fits_the_window_with_the_answer_above_the_fold(browser, four_variants, width: int,
                                                                        tmp_path: Path) -> None:
    """At 800 and 1,400 px nothing is cut or scrolls sideways (the walkthrough lost the difference columns at
    both), and the headline (each variant's sentence and what the CI covers) lies within the first 800 px."""
    out, result = four_variants
    page, errors = open_page(browser, out / "report.html", width=width)
    page.set_viewport_size({"width": width, "height": 800})
    assert page.evaluate(LAYOUT) == []
    box = page.locator("#headline").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, box
    assert page.locator("#headline li").all_inner_texts() == [h["sentence"] for h in result["headlines"]]
    assert page.locator("#headline .how-sure").inner_text() == result["uncertainty"]
    # Every variant's difference column is on screen when its table is scrolled to (never off to the right).
    for name in result["variants"]:
        last = page.locator(f'table.compare[data-variant="{name}"] thead th').last
        assert last.inner_text() == f"{name} − base"
        last.scroll_into_view_if_needed()
        cell = last.bounding_box()
        assert cell is not None and cell["x"] >= 0 and cell["x"] + cell["width"] <= width
    page.screenshot(path=str(tmp_path / f"simulate-{width}.png"))
    assert errors == []


def test_simulation_report_in_the_browser(browser, four_variants) -> None:
    """Each variant has its table (base, variant, paired difference) with its description, the municipality is
    named, the bill and its sources shown, Little's law stands in a model-check section of its own, and the
    glossary closes the page."""
    out, result = four_variants
    assert len(result["variants"]) == 4
    page, errors = open_page(browser, out / "report.html", width=1400)
    for name, variant in result["variants"].items():
        table = page.locator(f'#metrics table.compare[data-variant="{name}"]')
        assert table.locator("caption").inner_text() == f"{name}: {variant['description']}"
        row = table.locator('tr[data-metric="completion_tax_days"] td')
        assert row.count() == 3  # base, the variant, its difference
        assert float(row.nth(0).get_attribute("data-mean")) == result["metrics"]["completion_tax_days"]["mean"]
        assert float(row.nth(2).get_attribute("data-mean")) == \
            result["comparison"][name]["difference"]["completion_tax_days"]["mean"]
    assert page.locator('#by-municipality tr[data-code="813"] th').inner_text() == "813 Frederikshavn Kommune"
    assert page.locator("#model-checks").count() == 1
    assert page.locator('#metrics tr[data-metric="occupancy_mean"]').count() == 0
    assert page.locator('#model-check-table tr[data-metric="occupancy_mean"]').count() == len(result["variants"])
    assert "completion tax, DKK (2016 rates) per 14 days" in page.locator("#metrics").inner_text()
    bill = page.locator('table.bill[data-variant="window-14"]').inner_text()
    assert "extra reception staffing, DKK (2024 prices) per 14 days" in bill and "(2016 rates)" in bill
    assert "not netted: the completion tax is in 2016 rates and reception staffing in 2024 prices" in bill
    sources = page.locator("#bill-sources li").all_inner_texts()
    assert any("SOURCE: Frederikshavn" in t for t in sources) and any("ASSUMPTION" in t for t in sources)
    assert page.locator("#glossary dt").all_inner_texts() == list(result["glossary"])
    images = page.locator("img")
    assert images.count() == 3
    assert all(img.evaluate("i => i.complete && i.naturalWidth > 0") for img in images.all())
    assert errors == []


def test_the_sweep_page_fits_800_px_with_its_bill(browser, tmp_path: Path) -> None:
    """The walkthrough's sweep lost its bill table's last column at 800 px."""
    scenario = scenario_file(tmp_path / "week.toml", SHIPPED["twelve"], WEEK)
    run = medcom("sweep", str(scenario), "--vary", "municipality.discharge_window_end=12:00,13:00,14:00,15:00,16:00",
                 "--format", "html", "--out", str(tmp_path / "out"))
    assert run.exit_code == 0, run.stderr
    data = json.loads((tmp_path / "out" / "sweep.json").read_text(encoding="utf-8"))
    page, errors = open_page(browser, tmp_path / "out" / "report.html", width=800)
    page.set_viewport_size({"width": 800, "height": 800})
    assert page.evaluate(LAYOUT) == []
    assert page.locator("#headline li").all_inner_texts() == [h["sentence"] for h in data["headlines"]]
    assert page.locator("table.bill tbody tr").count() == len(data["points"])
    assert "different price years" in page.locator("#bill-note").inner_text()
    assert errors == []
