"""The repository explains itself: no file points outside it, the docs' links resolve, and the README's first screen
says where the rules live."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import ROOT

SKIPPED_DIRS = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis",
                "node_modules", "results"}
OUTSIDE = ("../" + "shared", "shared" + "/reference")  # the team's folder beside a checkout: clones do not have it


def repository_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if path.is_file() and not parts & SKIPPED_DIRS and not any(p.endswith(".egg-info") for p in parts):
            files.append(path)
    return files


def test_no_file_refers_to_the_teams_folder_beside_the_checkout() -> None:
    offenders = []
    for path in repository_files():
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary: archives, images
        text = data.decode("utf-8", errors="replace")
        if any(outside in text for outside in OUTSIDE):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_relative_links_in_the_docs_resolve() -> None:
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md")]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not re.match(r"^[a-z]+:", target):
                assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_readme_first_screen_says_where_the_rules_live() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[2] == "```sh"
    assert lines[3].startswith("python3 -m venv .venv") and "medcom simulate" in lines[3]
    assert lines[4].startswith("python3 -m venv .venv") and "pytest" in lines[4]
    first_screen = "\n".join(lines[:24])
    assert "docs/RULES.md" in first_screen and "medcom rules" in first_screen


def test_the_project_licence_is_mit() -> None:
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n\nCopyright (c) 2026 the medcom")
