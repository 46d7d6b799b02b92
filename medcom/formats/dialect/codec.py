"""Write the message model as XML and read it back: one reflective mapping serves both directions.

Each dataclass field is an element named by its `xml` metadata (or the field name in CamelCase), in field
order; a tuple is a container element with one item element per value; None and empty tuples are left
out; datetimes are `<Date>` and `<Time>` in Copenhagen local time. Letters also carry their family's
version and statistical code. `decode()` is strict: a missing or malformed element raises DecodeError.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime, time
from functools import cache
from typing import Any

from lxml import etree

from medcom.calendar import localize, to_local
from medcom.formats.dialect.families import FamilySpec, spec_for_body, spec_for_class
from medcom.formats.dialect.model import Envelope, Message


class DecodeError(ValueError):
    """The XML does not hold a complete message; `element` is where reading stopped."""

    def __init__(self, message: str, element: etree._Element | None = None) -> None:
        super().__init__(message)
        self.element = element


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@cache
def _fields(cls: type) -> tuple[tuple[str, str, Any, str | None, bool], ...]:
    """(attribute, element name, type, item element name, required) for each field of a dataclass."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        optional = False
        if isinstance(hint, types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            optional, hint = True, args[0]
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        out.append((f.name, f.metadata.get("xml") or camel(f.name), hint, f.metadata.get("item"),
                    not (optional or has_default)))
    return tuple(out)


# ---- writing -------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _write(parent: etree._Element, ns: str, name: str, value: Any, item: str | None) -> None:
    if value is None:
        return
    if isinstance(value, tuple):
        if not value:
            return
        container = etree.SubElement(parent, f"{{{ns}}}{name}")
        for v in value:
            _write(container, ns, item or "Item", v, None)
        return
    el = etree.SubElement(parent, f"{{{ns}}}{name}")
    if isinstance(value, datetime):
        local = to_local(value)
        etree.SubElement(el, f"{{{ns}}}Date").text = local.date().isoformat()
        etree.SubElement(el, f"{{{ns}}}Time").text = local.strftime("%H:%M:%S")
    elif dataclasses.is_dataclass(value):
        _write_fields(el, ns, value)
    else:
        el.text = _text(value)


def _write_fields(el: etree._Element, ns: str, obj: Any, skip: str | None = None) -> None:
    for attr, name, _hint, item, _required in _fields(type(obj)):
        if attr != skip:
            _write(el, ns, name, getattr(obj, attr), item)


def encode(message: Message) -> etree._Element:
    """The message as an `Emessage` element tree."""
    spec = spec_for_class(type(message))
    ns = spec.namespace
    root = etree.Element(f"{{{ns}}}Emessage", nsmap={None: ns})
    _write(root, ns, "Envelope", message.envelope, None)
    body = etree.SubElement(root, f"{{{ns}}}{spec.body}")
    _write_fields(body, ns, message, skip="envelope")
    letter = body.find(f"{{{ns}}}Letter")
    if letter is not None:  # the family's codes follow the letter identifier, as in OIOXML
        for position, (name, text) in enumerate((("VersionCode", spec.version), ("StatisticalCode", spec.code))):
            code = etree.Element(f"{{{ns}}}{name}")
            code.text = text
            letter.insert(1 + position, code)
    return root


def to_xml(message: Message) -> bytes:
    """The message as UTF-8 XML bytes with a declaration."""
    return etree.tostring(encode(message), xml_declaration=True, encoding="UTF-8", pretty_print=True)


# ---- reading -------------------------------------------------------------------------------------


def read_wall_time(el: etree._Element, ns: str) -> datetime:
    """The naive Copenhagen wall time of a Date/Time element; DecodeError if malformed."""
    date_text, time_text = el.findtext(f"{{{ns}}}Date"), el.findtext(f"{{{ns}}}Time")
    if date_text is None or time_text is None:
        raise DecodeError("a time needs Date and Time", el)
    try:
        return datetime.combine(date.fromisoformat(date_text.strip()), time.fromisoformat(time_text.strip()))
    except ValueError:
        raise DecodeError(f"not a date and time: {date_text!r} {time_text!r}", el) from None


def read_datetime(el: etree._Element, ns: str) -> datetime:
    """The instant a Date/Time element names (a time in the spring gap is moved past it; the
    validator reports it as M-TIME)."""
    return localize(read_wall_time(el, ns), strict=False)


def _is_datetime(hint: Any) -> bool:
    """Subclass either way, so that a patched datetime class (freezegun) is still recognised."""
    return isinstance(hint, type) and (issubclass(hint, datetime) or issubclass(datetime, hint))


Reader = typing.Callable[[etree._Element], Any]


def _scalar_reader(hint: Any) -> Reader:
    if hint is str:
        return lambda el: el.text or ""

    def convert(text: str) -> Any:
        if hint is bool:
            if text.strip() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.strip() in ("true", "1")
        if hint is int:
            return int(text)
        return hint(text.strip())  # an Enum

    def read(el: etree._Element) -> Any:
        text = el.text or ""
        try:
            return convert(text)
        except ValueError:
            raise DecodeError(f"{etree.QName(el).localname}: unexpected value {text!r}", el) from None

    return read


@cache
def _reader(hint: Any, ns: str) -> Reader:
    """A function reading one element as `hint` in namespace `ns` (built once per type and namespace)."""
    if _is_datetime(hint):
        return lambda el: read_datetime(el, ns)
    if dataclasses.is_dataclass(hint):
        return lambda el: hint(**_read_fields(el, ns, hint))
    return _scalar_reader(hint)


@cache
def _plan(cls: type, ns: str) -> tuple[tuple[str, str, Reader, str | None, bool, str], ...]:
    """(attribute, child tag, reader, item tag, required, element name) for each field of `cls` in `ns`."""
    out = []
    for attr, name, hint, item, required in _fields(cls):
        if typing.get_origin(hint) is tuple:
            out.append((attr, f"{{{ns}}}{name}", _reader(typing.get_args(hint)[0], ns), f"{{{ns}}}{item}",
                        required, name))
        else:
            out.append((attr, f"{{{ns}}}{name}", _reader(hint, ns), None, required, name))
    return tuple(out)


@cache
def _plan_tags(cls: type, ns: str) -> frozenset[str]:
    return frozenset(tag for _, tag, *_ in _plan(cls, ns))


def _read_fields(el: etree._Element, ns: str, cls: type, skip: str | None = None) -> dict[str, Any]:
    values = {}
    children = iter(el)  # fields come in schema order: one merge pass over the children, no find() per field
    child = next(children, None)
    plan = _plan(cls, ns)
    known = _plan_tags(cls, ns)
    for attr, tag, read, item_tag, required, name in plan:
        if attr == skip:
            continue
        while child is not None and child.tag not in known:  # comments, version codes the model does not hold
            child = next(children, None)
        if child is None or child.tag != tag:
            if required:
                raise DecodeError(f"{etree.QName(el).localname} has no {name}", el)
            continue
        values[attr] = read(child) if item_tag is None else tuple(read(c) for c in child.iterfind(item_tag))
        child = next(children, None)
    return values


def decode_block(el: etree._Element, cls: type) -> Any:
    """One dataclass block (a Party, say) read on its own, in the element's own namespace."""
    return cls(**_read_fields(el, etree.QName(el).namespace or "", cls))


def _split(tag: str) -> tuple[str, str]:
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, local


def identify(root: etree._Element) -> tuple[FamilySpec | None, etree._Element | None]:
    """The family of an `Emessage` root and its body element (None, None when unknown)."""
    namespace, local = _split(root.tag)
    if local != "Emessage":
        return None, None
    for child in root:  # the body is normally the second child, after the envelope
        if isinstance(child.tag, str):
            spec = spec_for_body(namespace, _split(child.tag)[1])
            if spec is not None:
                return spec, child
    return None, None


def decode(root: etree._Element) -> Message:
    """The message an `Emessage` element holds; DecodeError when it is unknown or incomplete."""
    spec, body = identify(root)
    if spec is None or body is None:
        raise DecodeError(f"not a known MedCom-style message: root {root.tag!r}", root)
    ns = spec.namespace
    envelope_el = root.find(f"{{{ns}}}Envelope")
    if envelope_el is None:
        raise DecodeError("Emessage has no Envelope", root)
    envelope = _reader(Envelope, ns)(envelope_el)
    return spec.cls(envelope=envelope, **_read_fields(body, ns, spec.cls, skip="envelope"))
