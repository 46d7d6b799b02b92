"""Wording shared by the reports: counts with the right plural."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 day', '2 days', '0 episodes'; `plural_form` where adding 's' is wrong."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"
