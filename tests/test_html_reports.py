"""HTML reports in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Skipped, with the reason, where Chromium or Playwright is absent; `.ci/run` installs Chromium when it can.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian package chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def medcom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medcom", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: errors.append(f"network request {req.url}")
            if not req.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri())
    return page, errors


def test_replay_report_in_the_browser(browser, tmp_path: Path) -> None:
    log = ROOT / "examples" / "log"
    html = tmp_path / "replay.html"
    assert medcom("replay", str(log), "--format", "html", "--out", str(html)).returncode == 0
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
    page.screenshot(path=str(tmp_path / "replay.png"), full_page=True)
    assert (tmp_path / "replay.png").stat().st_size > 10_000
    assert errors == []


def test_simulation_report_in_the_browser(browser, tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "nordjylland-2024.toml").read_text(encoding="utf-8")
    for key, value in {"per_day": 20.0, "horizon_days": 7, "warmup_days": 7, "cooldown_days": 0,
                       "replications": 2}.items():
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
    scenario = tmp_path / "small.toml"
    scenario.write_text(text, encoding="utf-8")
    run = medcom("simulate", str(scenario), "--format", "html", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    page, errors = open_page(browser, tmp_path / "out" / "report.html")
    row = page.locator('#metrics tr[data-metric="completion_tax_days"] td')
    assert float(row.first.get_attribute("data-mean")) == result["metrics"]["completion_tax_days"]["mean"]
    assert row.count() == 1 + 2 * len(result["variants"])  # base, then each variant and its difference
    for i, name in enumerate(result["variants"]):
        diff = float(row.nth(2 + 2 * i).get_attribute("data-mean"))
        assert diff == result["comparison"][name]["difference"]["completion_tax_days"]["mean"]
    images = page.locator("img")
    assert images.count() == 3
    assert all(img.evaluate("i => i.complete && i.naturalWidth > 0") for img in images.all())
    page.screenshot(path=str(tmp_path / "simulate.png"), full_page=True)
    assert errors == []
