"""Local names of OIOXML elements: a letter spreads over several namespaces, and is read by local names."""

from __future__ import annotations

from lxml import etree

LOCAL_NAMES: dict[str, str] = {}  # "{namespace}name" -> "name", for the tags documents use (bounded)
_KEPT = 4096


def local_name(el: etree._Element) -> str:
    """The element's name without its namespace (a comment's or processing instruction's tag as text)."""
    tag = el.tag
    name = LOCAL_NAMES.get(tag) if isinstance(tag, str) else None
    if name is None:
        name = tag[tag.index("}") + 1:] if isinstance(tag, str) and tag.startswith("{") else str(tag)
        if isinstance(tag, str) and len(LOCAL_NAMES) < _KEPT:
            LOCAL_NAMES[tag] = name
    return name


def namespace_of(el: etree._Element) -> str | None:
    """`etree.QName(el).namespace`, sliced from the tag (QName parses and checks the tag again: a few µs a
    document, asked twice of every root)."""
    tag = el.tag
    return tag[1:tag.index("}")] if isinstance(tag, str) and tag.startswith("{") else None
