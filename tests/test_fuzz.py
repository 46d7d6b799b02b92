"""Structure-aware fuzzing of every command (item 13): valid inputs from examples/, mutated where they are
structured (XML elements and texts, archive members and compression, timeline keys and values, scenario and
policy values) and at the byte level, run in-process.

Every run must: end without a traceback, exit 0, 1 or 2, count every input once (accepted + rejected +
duplicates = messages; accepted + rejected = lines), show no CPR number unmasked, and write nothing outside
its output directory. A few hundred cases run with the tests (about 20 s); `MEDCOM_FUZZ_EXAMPLES=10000
python -m pytest tests/test_fuzz.py` runs 10,000 (the number is shared out among the tests below).
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path

from helpers import ROOT
from helpers.cli import invoke, no_traceback, our_receipt_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from medcom.identifiers import find_cprs

EXAMPLES = ROOT / "examples"
MESSAGES = sorted((EXAMPLES / "log").glob("*.xml")) + sorted((EXAMPLES / "invalid").glob("*.xml"))
TIMELINE_LINES = [*(EXAMPLES / "timeline.jsonl").read_bytes().splitlines(),
                  *(EXAMPLES / "log" / "events.jsonl").read_bytes().splitlines()]
TOTAL = int(os.environ.get("MEDCOM_FUZZ_EXAMPLES", "200"))
SETTINGS = {"deadline": None, "derandomize": TOTAL <= 200, "database": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def share(fraction: float) -> int:
    return max(5, round(TOTAL * fraction))


# ---- hostile values ---------------------------------------------------------------------------------------

TEXTS = ["", " ", "0001-01-01", "9999-12-31", "1899-12-31", "2025-03-30", "02:30:00", "24:00:00", "250947-9989",
         "2509479989", "0101907AB1", "3102471234", "A" * 300, "-1", "99999999999999999999", "nytbrev", "rettetbrev",
         "annulleretbrev", "pluspositivkvittering", "kommunenummer", "411", "5790000182730", "æøå", "\u202e",
         "x" * 20]
JSON_VALUES = ['"x"', '""', "null", "true", "0", "-1", "1e400", "9" * 5000, "[" * 50_000 + "]" * 50_000, "NaN",
               '"\\ud800"', '"a\\u0000b"', "[1, 2]", '{"a": {"b": []}}', '"0001-01-01T00:00:00+01:00"',
               '"9999-12-31T23:59:59-05:00"', '"2025-03-30T02:30"', '"2025-10-26T02:30"', '"250947-9989"',
               '"2509479989"', '"0101907AB1"', '"25094799"', '"E1"', '"hospital"', '"municipality"', '"accept"']
TOML_VALUES = ["nan", "inf", "-inf", "-1", "0", "1", "0.5", "2.5", "1e308", "1e9", '"x"', '""', "[]", "{}", "true",
               "9999-12-01", "1000-01-01", "2025-01-06T00:00:00", '"99999999999h"', '"-3h"', '"1h30m"', "12:00:00",
               "25:00:00", '["9999"]', "[nan]", '"2025-12-24"']


# ---- strategies -------------------------------------------------------------------------------------------


@st.composite
def xml_message(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(MESSAGES)).read_bytes()
    for _ in range(draw(st.integers(0, 3))):
        data = draw(st.sampled_from([_mutate_tree, _mutate_bytes]))(draw, data)
    return data


def _mutate_tree(draw: st.DrawFn, data: bytes) -> bytes:
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError:
        return data
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    el = draw(st.sampled_from(elements))
    action = draw(st.sampled_from(["text", "remove", "duplicate", "attributes", "prefix", "nest"]))
    if action == "text":
        el.text = draw(st.sampled_from(TEXTS))
    elif action == "remove" and el.getparent() is not None:
        el.getparent().remove(el)
    elif action == "duplicate" and el.getparent() is not None:
        el.addnext(copy.deepcopy(el))
    elif action == "attributes":
        for i in range(draw(st.integers(1, 300))):
            el.set(f"a{i}", "x")
    elif action == "prefix":  # real MedCom messages carry namespace prefixes
        namespace = etree.QName(root).namespace
        text = etree.tostring(root).decode()
        if namespace:
            text = re.sub(r"<(/?)(\w+)", r"<\1m:\2", text).replace(f'xmlns="{namespace}"', f'xmlns:m="{namespace}"')
        return text.encode()
    elif action == "nest":
        wrapper = etree.SubElement(el, "Nested")
        for _ in range(draw(st.integers(1, 200))):
            wrapper = etree.SubElement(wrapper, "Nested")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _mutate_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    action = draw(st.sampled_from(["flip", "truncate", "insert", "repeat"]))
    if action == "flip" and data:
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if action == "truncate":
        return data[:at]
    if action == "insert":
        return data[:at] + draw(st.binary(max_size=20)) + data[at:]
    return data[:at] + data[at:at + 200] * draw(st.integers(2, 50)) + data[at:]


@st.composite
def timeline_line(draw: st.DrawFn) -> bytes:
    line = draw(st.sampled_from(TIMELINE_LINES))
    action = draw(st.sampled_from(["value", "value", "drop", "bytes", "keep"]))
    if action in ("value", "drop"):
        raw = json.loads(line)
        key = draw(st.sampled_from(sorted(raw) + ["id", "ref", "reply_to", "until", "discharge_at", "cpr"]))
        if action == "drop":
            raw.pop(key, None)
            return json.dumps(raw, ensure_ascii=False).encode()
        text = json.dumps({k: v for k, v in raw.items() if k != key}, ensure_ascii=False)
        return (text[:-1] + f', "{key}": ' + draw(st.sampled_from(JSON_VALUES)) + "}").encode()
    if action == "bytes":
        return _mutate_bytes(draw, line).replace(b"\n", b" ")
    return line


@st.composite
def timeline(draw: st.DrawFn) -> bytes:
    return b"\n".join(draw(st.lists(timeline_line(), min_size=1, max_size=12))) + b"\n"


@st.composite
def archive(draw: st.DrawFn) -> bytes:
    buffer = io.BytesIO()
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA,
                                        zipfile.ZIP_BZIP2]))
    with zipfile.ZipFile(buffer, "w", compression=compression) as z:
        for _ in range(draw(st.integers(1, 4))):
            name = draw(st.sampled_from(["a.xml", "a.xml", "b.xml", "log/c.xml", "log/events.jsonl",
                                         "events.jsonl", "notes.txt", "d/"]))
            content = draw(timeline()) if name.endswith(".jsonl") else draw(xml_message())
            with _quiet_duplicates():
                z.writestr(name, b"" if name.endswith("/") else content)
    data = buffer.getvalue()
    if draw(st.booleans()):  # corrupt the compressed data or a header
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1:]
    return data


class _quiet_duplicates:
    def __enter__(self) -> None:
        import warnings

        self.catch = warnings.catch_warnings()
        self.catch.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self.catch.__exit__(*exc)


# ---- the checks every run keeps ---------------------------------------------------------------------------


def check(result, out: Path | None = None) -> None:
    no_traceback(result)
    texts = [result.stdout, result.stderr]
    if out is not None and out.exists():
        for path in (p for p in out.rglob("*") if p.is_file()):
            texts.append(path.name)
            # A receipt quotes the original's ids as they are (the protocol: SOR and location numbers, which can
            # hold a 10-digit run with a date in it); the texts in it are medcom's own.
            if path.parent.name == "receipts" and not path.name.startswith("."):
                texts.append(our_receipt_text(path))
            else:
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    leaks = [cpr for text in texts for cpr in find_cprs(text)]
    assert leaks == [], leaks


def counted(report: dict) -> None:
    inputs = report["inputs"]
    assert inputs["accepted"] + inputs["rejected"] + inputs.get("duplicates", 0) == inputs["messages"], inputs
    if "events" in report:
        events = report["events"]
        assert events["accepted"] + events["rejected"] == events["lines"], events


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run_inputs(files: dict[str, bytes], fmt: str, command: str, *extra: str) -> None:
    """Write `files` into a fresh folder and run `command` over it; nothing may be written beside them."""
    with tempfile.TemporaryDirectory(prefix="medcom-fuzz-") as tmp:
        base = Path(tmp)
        inputs, out = base / "in", base / "out"
        inputs.mkdir()
        out.mkdir()
        for name, data in files.items():
            (inputs / name).parent.mkdir(parents=True, exist_ok=True)
            (inputs / name).write_bytes(data)
        before = _listing(inputs)
        args = [command, str(inputs), "--format", fmt, "--out", str(out / f"report.{fmt}"), *extra]
        if command == "validate":
            args += ["--receipts", str(out / "receipts")]
        result = invoke(*args)
        check(result, out)
        assert _listing(inputs) == before and sorted(p.name for p in base.iterdir()) == ["in", "out"]
        if fmt == "json" and result.exit_code in (0, 1):
            counted(json.loads((out / "report.json").read_text(encoding="utf-8")))


FORMATS = st.sampled_from(["json", "json", "text", "junit"])


@settings(max_examples=share(0.3), **SETTINGS)
@given(messages=st.lists(xml_message(), min_size=1, max_size=3), fmt=FORMATS,
       command=st.sampled_from(["validate", "replay"]))
def test_fuzz_messages(messages: list[bytes], fmt: str, command: str) -> None:
    run_inputs({f"m{i}.xml": data for i, data in enumerate(messages)}, fmt, command)


@settings(max_examples=share(0.25), **SETTINGS)
@given(data=archive(), fmt=FORMATS, command=st.sampled_from(["validate", "replay"]))
def test_fuzz_archives(data: bytes, fmt: str, command: str) -> None:
    run_inputs({"log.zip": data}, fmt, command)


@settings(max_examples=share(0.25), **SETTINGS)
@given(data=timeline(), fmt=st.sampled_from(["json", "text", "junit", "html"]),
       command=st.sampled_from(["replay", "build", "validate"]))
def test_fuzz_timelines(data: bytes, fmt: str, command: str) -> None:
    with tempfile.TemporaryDirectory(prefix="medcom-fuzz-") as tmp:
        path, out = Path(tmp) / "t.jsonl", Path(tmp) / "out"
        path.write_bytes(data)
        if command == "build":
            result = invoke("build", path, "--out", out)
            check(result, None)  # the built messages carry CPR numbers: they are data, not a report
            if result.exit_code == 0:
                check(invoke("replay", out, "--format", "json"))
            return
        if command == "validate" and fmt == "html":
            fmt = "json"
        out.mkdir()
        result = invoke(command, path, "--format", fmt, "--out", out / "report")
        check(result, out)
        if fmt == "json" and result.exit_code in (0, 1):
            counted(json.loads((out / "report").read_text(encoding="utf-8")))


TINY = {"warmup_days": "0", "horizon_days": "1", "cooldown_days": "0", "replications": "2", "per_day": "2.0"}


def _tiny_scenario() -> str:
    text = (EXAMPLES / "small-scenario.toml").read_text(encoding="utf-8")
    for key, value in TINY.items():
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
    return text


SCENARIO = _tiny_scenario()
SCENARIO_KEYS = re.findall(r"^(\w+) = ", SCENARIO, flags=re.M)
POLICY = (ROOT / "medcom" / "policy" / "default.toml").read_text(encoding="utf-8")
POLICY_KEYS = re.findall(r"^(\w+) = ", POLICY, flags=re.M)


def _set(text: str, key: str, literal: str, nth: int) -> str:
    matches = list(re.finditer(rf"^{key} = .*$", text, flags=re.M))
    match = matches[nth % len(matches)]
    return text[:match.start()] + f"{key} = {literal}" + text[match.end():]


@settings(max_examples=share(0.1), **SETTINGS)
@given(key=st.sampled_from(SCENARIO_KEYS), literal=st.sampled_from(TOML_VALUES), nth=st.integers(0, 3))
def test_fuzz_scenario_values(key: str, literal: str, nth: int) -> None:
    text = _set(SCENARIO, key, literal, nth)
    if re.search(r"^(horizon_days|warmup_days|cooldown_days|per_day|replications) = (1e9|1e308)", text, re.M):
        return  # rejected by the limits (tested in test_bad_files_and_options); skip the simulation's time
    with tempfile.TemporaryDirectory(prefix="medcom-fuzz-") as tmp:
        path = Path(tmp) / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        result = invoke("simulate", path, "--format", "json")
        check(result)
        if result.exit_code == 2:
            assert str(path) in result.stderr, result.stderr
        else:
            assert result.exit_code == 0 and json.loads(result.stdout)["replications"] == 2


@settings(max_examples=share(0.1), **SETTINGS)
@given(key=st.sampled_from(POLICY_KEYS), literal=st.sampled_from(TOML_VALUES), nth=st.integers(0, 3),
       command=st.sampled_from(["validate", "replay"]))
def test_fuzz_policy_values(key: str, literal: str, nth: int, command: str) -> None:
    with tempfile.TemporaryDirectory(prefix="medcom-fuzz-") as tmp:
        path = Path(tmp) / "policy.toml"
        path.write_text(_set(POLICY, key, literal, nth), encoding="utf-8")
        result = invoke(command, EXAMPLES / "log", "--policy", path, "--format", "json")
        check(result)
        if result.exit_code == 2:
            assert str(path) in result.stderr, result.stderr
        else:
            counted(json.loads(result.stdout))


# ---- issue 19, runtime classes: CPR spellings in every output, hostile policy / scenario / sweep values ----------

# A CPR number as senders and operators write it: ASCII or other scripts' digits, one separator or none, letters
# or digits glued on either side. `_CPR_DIGITS` must never show in any output, whatever the spelling.
_CPR_DIGITS = "2509479989"
_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xFF10, 0x1D7CE]  # ASCII, Arabic-Indic, Persian, Devanagari, ...
_SEPARATORS = ["", "", "-", " ", ".", "\u2013", "\u00a0", "\u2212", "\u202f", "\u2011"]


@st.composite
def cpr_spelling(draw: st.DrawFn) -> str:
    digits = [chr(draw(st.sampled_from(_ZEROS)) + int(d)) for d in _CPR_DIGITS]
    separator = draw(st.sampled_from(_SEPARATORS))
    glued = st.sampled_from(["", "", "x", "CPR", "#", "(", "é"] if separator == "." else
                            ["", "", "x", "CPR", "7", "12", "\u0663", "#", "(", "é"])
    # (Digits glued to a dotted spelling make a decimal number, 7250947.99891, which medcom leaves alone.)
    return draw(glued) + "".join(digits[:6]) + separator + "".join(digits[6:]) + draw(glued)


def _shows_the_cpr(text: str) -> bool:
    """The digits of _CPR_DIGITS in any script, separators dropped (independent of medcom's detector)."""
    import unicodedata

    plain = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    return _CPR_DIGITS in re.sub(r"[\s\-\u2010-\u2015\u2212./]", "", plain)


_PLAN = next((EXAMPLES / "log").glob("E1-*-care_plan_sent.xml")).read_bytes()
_ADVICE = next((EXAMPLES / "log").glob("E1-*-admission_advice_sent.json")).read_text(encoding="utf-8")


@settings(max_examples=share(0.05), **SETTINGS)
@given(value=cpr_spelling(), name=cpr_spelling(), fmt=st.sampled_from(["json", "text", "junit", "html"]),
       command=st.sampled_from(["validate", "replay"]), kind=st.sampled_from(["xml", "json", "jsonl"]))
def test_fuzz_cpr_spellings_never_show(value: str, name: str, fmt: str, command: str, kind: str) -> None:
    if command == "validate" and fmt == "html":
        fmt = "json"
    if kind == "xml":
        data = _PLAN.replace(_CPR_DIGITS.encode(), value.encode())
    elif kind == "json":
        data = _ADVICE.replace(_CPR_DIGITS, value).encode()
    else:
        data = (json.dumps({"at": "2025-03-24T08:40", "episode": value, "event": "admitted", "cpr": value},
                           ensure_ascii=False) + "\n").encode()
    with tempfile.TemporaryDirectory(prefix="medcom-fuzz-") as tmp:
        folder, out = Path(tmp) / name, Path(tmp) / "out"
        folder.mkdir()
        out.mkdir()
        (folder / f"{name}.{kind}").write_bytes(data)
        args = [command, folder, "--format", fmt, "--out", out / "report"]  # (a name the user chose)
        if command == "validate":
            args += ["--receipts", out / "receipts"]
        result = no_traceback(invoke(*args))
        texts = [result.stdout, result.stderr]
        for path in out.rglob("*"):
            texts.append(path.name)
            if path.is_file() and path.parent.name != "receipts":  # a receipt quotes the original's ids
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
        assert not any(_shows_the_cpr(text) for text in texts), [t[:500] for t in texts if _shows_the_cpr(t)]


_HOSTILE_LITERALS = st.one_of(
    st.sampled_from(["1e308", "-1e308", "1e-308", "nan", "inf", "-inf", "+inf", "0", "-0.0", "1e30", "4294967296",
                     "18446744073709551616", "[]", "{}", '""', "true"]),
    st.integers(1, 6000).map(lambda n: "9" * n),  # past 4,300 digits Python will not convert
    st.integers(1, 6000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 4000).map(lambda n: "{a = " * n + "1" + "}" * n),
    st.tuples(st.integers(0, 3000), st.sampled_from(["x", "h", "1hx", "1h 2m 3", ""])).map(
        lambda t: '"' + " " * t[0] + t[1] + '"'),
    st.tuples(st.integers(0, 3000), st.integers(0, 3000)).map(lambda t: f'"1h{" " * t[0]}30m{" " * t[1]}x"'),
)
_SCENARIO_KEYS = [k for k in SCENARIO_KEYS if k not in ("name", "description")]


@settings(max_examples=share(0.05), **SETTINGS)
@given(where=st.sampled_from(["scenario", "policy", "scenario policy", "sweep"]), literal=_HOSTILE_LITERALS,
       scenario_key=st.sampled_from(_SCENARIO_KEYS), policy_key=st.sampled_from(POLICY_KEYS), nth=st.integers(0, 3))
def test_fuzz_hostile_values_exit_cleanly(where: str, literal: str, scenario_key: str, policy_key: str,
                                          nth: int) -> None:
    """Any value of any key, in a scenario, a policy file, a scenario's [policy] or sweep --vary: exit 0 or a
    clear exit 2 in one line, never a traceback or a hang (durations with long blanks, deep TOML, 6,000-digit
    numbers, 1e308, NaN, inf)."""
    with tempfile.TemporaryDirectory(prefix="medcom-fuzz-") as tmp:
        path = Path(tmp) / "input.toml"
        if where == "policy":
            path.write_text(_set(POLICY, policy_key, literal, nth), encoding="utf-8")
            result = no_traceback(invoke("validate", EXAMPLES / "log" / "events.jsonl", "--policy", path))
        elif where == "scenario policy":
            table = "messages" if policy_key in ("receipt_timeout", "max_resends") else "care_plan"
            key = policy_key if table == "messages" else "cutoff"
            path.write_text(SCENARIO + f"\n[policy.{table}]\n{key} = {literal}\n", encoding="utf-8")
            result = no_traceback(invoke("simulate", path, "--format", "json"))
        elif where == "sweep":
            path.write_text(SCENARIO, encoding="utf-8")
            table = _table_of(SCENARIO, scenario_key, nth)
            result = no_traceback(invoke("sweep", path, "--vary", f"{table}.{scenario_key}={literal}"))
        else:
            text = _set(SCENARIO, scenario_key, literal, nth)
            if re.search(r"^(horizon_days|warmup_days|cooldown_days|per_day|replications) = 1e30", text, re.M):
                return  # a long but valid run: not what this test is about
            path.write_text(text, encoding="utf-8")
            result = no_traceback(invoke("simulate", path, "--format", "json"))
        if result.exit_code == 2:
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr[-2000:]
        else:
            assert result.exit_code in (0, 1), result.exit_code


def _table_of(text: str, key: str, nth: int) -> str:
    """The [table] the nth `key = ` line of a scenario's text sits in."""
    matches = list(re.finditer(rf"^{key} = .*$", text, flags=re.M))
    before = text[:matches[nth % len(matches)].start()]
    return re.findall(r"^\[([\w.-]+)\]$", before, flags=re.M)[-1]


# ---- the format layer's hostile inputs (issue 19: encodings, wrappers, floods, digits, names, overlapping zips) ----

ENCODINGS = [("UTF-8", "utf-8"), (None, "utf-8"), ("UTF-16", "utf-16"), ("UTF-16", "utf-16-be"), (None, "utf-32"),
             ("UTF-32", "utf-32-be"), ("UCS-4", "utf-32-le"), ("UTF-7", "utf-7"), ("ISO-8859-1", "latin-1"),
             ("windows-1252", "cp1252"), ("IBM037", "cp037"), ("Shift_JIS", "shift_jis")]
ENTITY_TARGET = "@TARGET@"  # replaced by the test with a FIFO or a file that names the FIFO


def _encode(text: str, declared: str | None, codec: str) -> bytes:
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    if codec == "utf-7":  # the declaration in ASCII, '<' spelled +ADw-
        return declaration.encode("ascii") + text.encode("utf-7").replace(b"<", b"+ADw-")
    return (declaration + text).encode(codec, "replace")


@st.composite
def encoded_message(draw: st.DrawFn) -> bytes:
    """A message (or a made-up one) in any encoding libxml2 reads, with or without a DTD whose parameter entity
    points at ENTITY_TARGET, bare or base64 inside VANS Data and/or SBDH BinaryContent."""
    from medcom.formats.oioxml.wrappers import sbdh, vans_envelope
    from medcom.formats.xmlsafe import parse_bytes

    raw = draw(st.sampled_from(MESSAGES)).read_bytes()
    try:
        text = etree.tostring(parse_bytes(raw).getroot(), encoding="unicode")
    except Exception:  # noqa: BLE001 - a broken example stays a small document
        text = "<Emessage/>"
    if draw(st.booleans()):
        text = f'<!DOCTYPE Emessage [<!ENTITY % pe SYSTEM "file://{ENTITY_TARGET}"> %pe;]>' + text
    declared, codec = draw(st.sampled_from(ENCODINGS))
    data = _encode(text, declared, codec)
    wrap = draw(st.sampled_from(["bare", "vans", "sbdh", "sbdh-vans"]))
    if wrap in ("vans", "sbdh-vans"):
        data = vans_envelope(data, envelope_id="E1", sent="2025-01-06T10:00:00", sender_ean="5790000000001",
                             receiver_ean="5790000000002", name="XDIS16", version="XD1634C")
        size = draw(st.sampled_from([None, "²", "٣٤", "9" * 5000, "-1", " 12 "]))
        if size is not None:
            data = re.sub(rb"<SizeInBytes>\d+</SizeInBytes>", f"<SizeInBytes>{size}</SizeInBytes>".encode(), data)
    if wrap.startswith("sbdh"):
        data = sbdh(data, instance_id="I1", created="2025-01-06T10:00:00", sender_gln="5790000000001",
                    receiver_gln="5790000000002", standard="s", type_version="1", doc_type="x")
    return data


@settings(max_examples=share(0.05), **SETTINGS)
@given(messages=st.lists(encoded_message(), min_size=1, max_size=3), fmt=FORMATS,
       command=st.sampled_from(["validate", "replay"]), target=st.sampled_from(["fifo", "file"]))
def test_fuzz_encodings_and_entities(messages: list[bytes], fmt: str, command: str, target: str) -> None:
    """Whatever the encoding and wrapping, no entity target is ever opened: the FIFO tells (a file that names the
    FIFO tells whether a regular file was read), and nothing hangs."""
    from helpers.fifo import watched_fifo

    with tempfile.TemporaryDirectory(prefix="medcom-fuzz-entity-") as tmp:
        fifo, chain = Path(tmp) / "fifo", Path(tmp) / "chain.dtd"
        with watched_fifo(fifo) as opened:
            chain.write_text(f'<!ENTITY % q SYSTEM "file://{fifo}"> %q;', encoding="ascii")
            path = str(fifo if target == "fifo" else chain)
            files = {}
            for i, data in enumerate(messages):
                for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
                    data = data.replace(ENTITY_TARGET.encode(codec), path.encode(codec))
                files[f"m{i}.xml"] = data.replace(b"@TARGET@", path.encode())
            run_inputs(files, fmt, command)
        assert not opened.is_set()


FHIR_EXAMPLE = json.loads(sorted((EXAMPLES / "log").glob("*.json"))[0].read_bytes())


@st.composite
def hostile_json(draw: st.DrawFn) -> bytes:
    """FHIR JSON at its worst: escaped-quote floods with no closing quote, long strings in any value, arrays,
    JSON in UTF-16/32, deep nesting, long numbers, Unicode digits in codes."""
    kind = draw(st.sampled_from(["flood", "long", "array", "wide", "deep", "digits"]))
    n = draw(st.integers(1, 200_000))
    if kind == "flood":
        return ('{"resourceType":"Bundle","id":"' + draw(st.sampled_from(['\\"', '\\\\', '\\u00e6', 'x'])) * n
                + draw(st.sampled_from(["", "\\", '"', '"}']))).encode()
    bundle = copy.deepcopy(FHIR_EXAMPLE)
    if kind == "long":
        where = draw(st.sampled_from(["id", "type", "zz", "timestamp"]))
        bundle[where] = draw(st.sampled_from(["x", "\\", '"', "\u202e", "250947"])) * n
    elif kind == "digits":
        bundle["entry"][0]["resource"].setdefault("identifier", []).append(
            {"system": "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes",
             "value": draw(st.sampled_from(["²", "٨٥١", "9999", "0851", "851"]))})
    text = json.dumps(bundle, ensure_ascii=draw(st.booleans()))
    if kind == "array":
        text = "[" + text + "]"
    if kind == "deep":
        text = '{"resourceType":"Bundle","x":' + "[" * min(n, 5000) + "]" * min(n, 5000) + "}"
    codec = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32"])) \
        if kind in ("array", "wide") else "utf-8"
    return text.encode(codec, "surrogatepass")


@settings(max_examples=share(0.05), **SETTINGS)
@given(documents=st.lists(hostile_json(), min_size=1, max_size=2), fmt=FORMATS,
       command=st.sampled_from(["validate", "replay"]))
def test_fuzz_hostile_json(documents: list[bytes], fmt: str, command: str) -> None:
    run_inputs({f"m{i}.json": data for i, data in enumerate(documents)}, fmt, command)


NAME_CHARACTERS = st.sampled_from(["a", "é", "\x01", "\n", "\r", "\x1b]0;x\x07", "\u202e", "\x7f", "\x85", "\u2028",
                                   " ", "!", "#", "%", ".", "\t"])


@st.composite
def hostile_archive(draw: st.DrawFn) -> bytes:
    """Archives with control characters in member names, and archives whose central directory lists one local
    entry many times (overlapping entries, as zip bombs are made)."""
    import struct

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z, _quiet_duplicates():
        for _ in range(draw(st.integers(1, 3))):
            name = "".join(draw(st.lists(NAME_CHARACTERS, min_size=1, max_size=6))) + ".xml"
            z.writestr(name, draw(st.sampled_from(MESSAGES)).read_bytes())
    data = buffer.getvalue()
    entries = draw(st.sampled_from([1, 1, 2, 50, 2000]))
    if entries > 1:  # every entry of the central directory repeated: all point at the same local headers
        end = data.rindex(b"PK\x05\x06")
        count, size_cd, offset_cd = struct.unpack("<H2I", data[end + 10:end + 20])
        directory = data[offset_cd:offset_cd + size_cd] * entries
        total = min(count * entries, 0xFFFF)
        data = data[:offset_cd] + directory + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, total, total,
                                                          len(directory), offset_cd, 0)
    return data


@settings(max_examples=share(0.05), **SETTINGS)
@given(data=hostile_archive(), fmt=st.sampled_from(["json", "text", "junit"]),
       command=st.sampled_from(["validate", "replay"]),
       name=st.lists(NAME_CHARACTERS, min_size=1, max_size=5))
def test_fuzz_names_and_overlapping_archives(data: bytes, fmt: str, command: str, name: list[str]) -> None:
    """Every output stays well-formed and forges no line, whatever the names; overlapping archives are refused."""
    file_name = "".join(name).replace("/", "_") + ".zip"
    with tempfile.TemporaryDirectory(prefix="medcom-fuzz-") as tmp:
        base = Path(tmp)
        (base / "in").mkdir()
        (base / "in" / file_name).write_bytes(data)
        out = base / f"report.{fmt}"
        result = invoke(command, base / "in", "--format", fmt, "--out", out)
        check(result)
        if result.exit_code in (0, 1):
            text = out.read_text(encoding="utf-8")
            assert not set(text) & {"\x01", "\x07", "\x7f", "\x85", "\u202e", "\u2028"}, repr(text[:300])
            if fmt == "junit":
                etree.fromstring(text.encode())
            if fmt == "json":
                counted(json.loads(text))
