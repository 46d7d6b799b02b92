"""Values quoted in findings, at a bounded length: a finding names the value it is about, but a 9 MB string in a
message must not become a 9 MB finding (nor a 9 MB line in every report and receipt). One helper for every
format (OIOXML, FHIR, timelines), so that no finding quotes without the bound."""

from __future__ import annotations

import re
import reprlib

QUOTE_LIMIT = 60  # characters of a quoted value shown; the rest is cut (its beginning and end are kept)

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = QUOTE_LIMIT
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 4, 4, 4, 4


def quoted(value: object) -> str:
    """`value` as Python would quote it (control characters escaped), at most about QUOTE_LIMIT characters,
    worked out without building the whole representation of a large value."""
    return _REPR.repr(value)


def shortened(text: str) -> str:
    """`text` as it is when short; else its beginning and end around '...', saying how long it was."""
    if len(text) <= QUOTE_LIMIT:
        return text
    half = QUOTE_LIMIT // 2
    return f"{text[:half]}...{text[-half:]} ({len(text):,} characters)"


_LONG_QUOTE = re.compile(rf"'([^']{{{QUOTE_LIMIT}}})[^']++(?:'|\Z)")  # libxml2 may cut a message inside a quote


def cut_quotes(message: str) -> str:
    """A parser's message (libxml2 quotes whole values: "'xxxx...' is not a valid value") with every quoted part
    longer than QUOTE_LIMIT cut."""
    return _LONG_QUOTE.sub(lambda m: f"'{m[1]}...' (cut)", message)
