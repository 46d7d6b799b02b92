"""`medcom counterpart`: play one party of a flow live against a system under test (medcom.counterpart)."""

from __future__ import annotations

import ipaddress
import math
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import click

from medcom.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError, _instant, _output_file, _write
from medcom.events import FORMATS, WRAPS

MAX_SPEED = 1_000_000
PARTIES = ("hospital", "municipality")  # medcom.counterpart.flow.PARTIES (not imported: `medcom --help` stays light)


def _address(value: str) -> tuple[str, int]:
    """HOST:PORT or PORT (then 127.0.0.1: nothing listens beyond loopback unless asked)."""
    host, _, port = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
        ipaddress.ip_address(host)
    except ValueError:
        raise click.BadParameter(f"expected HOST:PORT with a numeric address, e.g. 127.0.0.1:8080, not {value!r}") \
            from None
    if not 0 <= number <= 65535:
        raise click.BadParameter(f"port {number} is not between 0 and 65535")
    return host, number


def _finite(value: float | None, what: str) -> float | None:
    if value is not None and not (math.isfinite(value) and 0 <= value <= 1e11):
        raise click.BadParameter(f"{what}: seconds since 1970, e.g. {time.time():.0f}, not {value}")
    return value


def _wait_for_epoch(path: Path) -> float:
    """The epoch a starter writes into `path` once every process is ready (Ctrl-C ends the wait)."""
    click.echo(f"medcom counterpart: ready; waiting for the epoch in {path}", err=True)
    while True:
        try:
            text = path.read_text(encoding="utf-8").strip()
            if text:
                return _finite(float(text), f"--epoch-file {path}")  # type: ignore[return-value]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, click.BadParameter) as exc:
            raise CommandError(f"medcom counterpart: {getattr(exc, 'message', exc)}") from None
        time.sleep(0.02)


@click.command()
@click.argument("flow", required=False)
@click.option("--list", "list_flows", is_flag=True, help="List the shipped flows and exit.")
@click.option("--play", type=click.Choice(PARTIES), help="The party medcom plays; the system under test plays the "
              "other.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), help="Folder drop: medcom writes here "
              "(atomically: a hidden temporary file, renamed).")
@click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), help="Folder drop: medcom takes each "
              "file the system under test drops here, as it appears.")
@click.option("--http", "http", metavar="HOST:PORT", help="Receive FHIR messages at POST "
              "http://HOST:PORT/$process-message (a bare PORT binds 127.0.0.1 only; 0 picks a free port).")
@click.option("--sut-url", metavar="URL", help="With --http: POST what medcom sends to this endpoint of the system "
              "under test (e.g. http://127.0.0.1:9090/fhir/$process-message).")
@click.option("--start", callback=_instant, help="When the flow starts, on the calendar (ISO 8601, local time "
              "Europe/Copenhagen unless an offset is given). Default: the flow's own start.")
@click.option("--speed", type=click.FloatRange(0.001, MAX_SPEED), default=60.0, show_default=True,
              help="How much faster than real time the clock runs (60: an hour a minute).")
@click.option("--epoch", type=click.FloatRange(0, 1e11), callback=lambda _c, _p, v: _finite(v, "--epoch"),
              help="The wall time (seconds since 1970, UTC) at which the clock shows --start; give two processes "
                   "the same to run them on one clock. Default: when the run starts.")
@click.option("--epoch-file", type=click.Path(dir_okay=False, path_type=Path), help="Instead of --epoch: once "
              "loaded, say so on stderr and wait until this file exists and holds the epoch (whoever starts several "
              "processes writes it when all are ready).")
@click.option("--grace", type=click.FloatRange(0, 60), default=1.0, show_default=True,
              help="Wall seconds the judge's clock runs behind, for messages on their way at a deadline; half of it "
                   "is how far medcom's own process may fall behind where a verdict depends on it (beyond: not "
                   "judged, exit 2).")
@click.option("--log", "log_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("counterpart-log"),
              show_default=True, help="Write every message sent and received here as it happens, with an "
              "events.jsonl side-car: a log `medcom replay` reads to the same verdict. Must be new or empty.")
@click.option("--formats", type=click.Choice(FORMATS), default="national", show_default=True,
              help="national: FHIR where MedCom's FHIR messages replace OIOXML; oioxml: OIOXML throughout.")
@click.option("--wrap", type=click.Choice(WRAPS), default="none", show_default=True,
              help="Wrap OIOXML in a VANS envelope or an SBDH.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "html"]), default="text",
              show_default=True, help="The final report (the live findings go to stderr as they happen).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), callback=_output_file,
              help="Write the final report here (default: standard output).")
@click.option("--fail-on", type=click.Choice(["warning", "error"]), default="warning", show_default=True,
              help="Which of the system under test's violations and findings fail the run (exit 1).")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML policy file overriding agreement parameters.")
@click.option("--show-cpr", is_flag=True, help="Show CPR numbers in full (masked by default).")
def counterpart(flow: str | None, list_flows: bool, play: str | None, outbox: Path | None, inbox: Path | None,
                http: str | None, sut_url: str | None, start: datetime | None, speed: float, epoch: float | None,
                epoch_file: Path | None, grace: float, log_dir: Path, formats: str, wrap: str, fmt: str,
                out: Path | None, fail_on: str, policy_file: Path | None, show_cpr: bool) -> None:
    """Play the hospital or the municipality of FLOW (a shipped flow's name, or a .toml file) live against a system
    under test, over a folder drop or HTTP; judge every message and deadline as it happens; report at the end
    (also on Ctrl-C or SIGTERM).

    \b
    Examples:
      medcom counterpart admission-care-plan-after-cutoff --play hospital --outbox out/ --inbox in/ --speed 600
      medcom counterpart admission-care-plan-discharge --play municipality --http 8080 --sut-url http://127.0.0.1:9090/fhir/$process-message

    \b
    Exit codes: 0 the system under test broke no rule, 1 it broke one, 2 usage or tool error (also: medcom's own
    clock fell behind by more than half of --grace where a verdict depended on it; the report says when and how
    much).
    """
    # here, not at import: the engine, the formats and the policy's calendars (`medcom --help` stays light)
    from medcom.counterpart.clock import LiveClock
    from medcom.counterpart.flow import FlowError, load, shipped
    from medcom.counterpart.session import Session, report, warm_up
    from medcom.counterpart.transport import FolderDrop, HttpEndpoint
    from medcom.events.build import BuildError
    from medcom.policy import PolicyError, load_policy
    from medcom.reports.counterpart import text_lines, to_html, to_json, to_junit

    if list_flows:
        for name, line in shipped().items():
            click.echo(f"{name:40} {line}")
        sys.exit(EXIT_OK)
    if flow is None or play is None:
        raise click.UsageError("FLOW and --play are needed (--list shows the shipped flows)")
    if (outbox is None) != (inbox is None):
        raise click.UsageError("--outbox and --inbox go together")
    if (outbox is None) == (http is None):
        raise click.UsageError("give one transport: --outbox DIR --inbox DIR, or --http HOST:PORT")
    if sut_url is not None and http is None:
        raise click.UsageError("--sut-url goes with --http")
    if inbox is not None and len({p.resolve() for p in (inbox, outbox, log_dir) if p is not None}) < 3:
        raise click.UsageError("--inbox, --outbox and --log must be three different folders (medcom would read what "
                               "it writes)")
    try:
        the_flow = load(flow)
        policy = load_policy(policy_file)
    except (FlowError, PolicyError) as exc:
        raise CommandError(f"medcom counterpart: {exc}") from None
    if log_dir.exists() and (not log_dir.is_dir() or any(log_dir.iterdir())):
        raise CommandError(f"medcom counterpart: --log {log_dir}: exists and is not empty (a log holds one run)")
    if outbox is not None and inbox is not None:
        for option, path in (("--outbox", outbox), ("--inbox", inbox)):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CommandError(f"medcom counterpart: {option} {path}: {exc.strerror or exc}") from None
        transport = FolderDrop(outbox, inbox, policy.messages.max_message_bytes)
    else:
        host, port = _address(http or "")
        if not ipaddress.ip_address(host).is_loopback:
            click.echo(f"medcom counterpart: listening on {host}, beyond loopback, as asked", err=True)
        transport = HttpEndpoint(host, port, sut_url, policy.messages.max_message_bytes)
        try:
            transport.listen()  # an address in use is said now, not at the epoch
        except OSError as exc:
            raise CommandError(f"medcom counterpart: cannot start the transport: {exc.strerror or exc}") from None
    begin = start or the_flow.start
    try:
        with tempfile.TemporaryDirectory() as scratch:
            warm_up(the_flow, play, begin, policy, formats, wrap, Path(scratch))
    except BuildError as exc:
        raise CommandError(f"medcom counterpart: flow {the_flow.name}: {exc}") from None
    if epoch_file is not None:
        epoch = _wait_for_epoch(epoch_file)
    clock = LiveClock(begin, speed, time.time() if epoch is None else epoch, grace)
    session = Session(the_flow, play, transport, log_dir, clock, policy, formats=formats, wrap=wrap,
                      say=lambda line: click.echo(line, err=True))  # stderr is masked
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    for sig in previous:
        signal.signal(sig, lambda *_: session.stop())
    try:
        try:
            session.begin()
        except OSError as exc:
            transport.close()
            raise CommandError(f"medcom counterpart: cannot start the transport: {exc.strerror or exc}") from None
        click.echo(f"medcom counterpart: flow {the_flow.name}, medcom plays the {play}; {transport.describe()}; "
                   f"log {log_dir}", err=True)
        session.run()
    finally:
        session.finish()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    verdict = report(session, fail_on)
    renderers = {"json": to_json, "junit": to_junit, "html": to_html, "text": lambda r: "\n".join(text_lines(r)) + "\n"}
    rendered = renderers[fmt](verdict)
    _write(out, rendered, show_cpr)  # masked there, on stdout and in --out, unless --show-cpr
    if not verdict["clock"]["trusted"]:
        # Neither a pass (a false accept) nor the SUT's failure (a false blame): medcom could not keep its clock, a
        # tool-side problem (exit 2), said in one line; the report says which moments and by how much.
        click.echo(f"medcom counterpart: not judged: medcom's own clock fell behind by more than its half of the "
                   f"grace of {grace:g} s where a verdict depended on it; {verdict['clock']['remedy']}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if verdict["sut_failed"] else EXIT_OK)
