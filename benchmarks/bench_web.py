"""The family's balance page under load, on the posted ICB set (issue 14, SQLite).

    python -m benchmarks.bench_web --set icb                 # ~4 min: latency, then 50 users for 60 s
    python -m benchmarks.bench_web --set icb --pyinstrument  # also profile 50 balance pages

Works on a copy of the set's posted snapshot (``out/db/web-bench-<set>.sqlite``, made afresh
each run, removed at the end unless ``--keep-db``): copied, brought up to date with
``ledger.store.migrate.upgrade`` (a snapshot posted before the sign-in tables existed gets only the
new tables; the copy's schema must then be exactly what the migrations make today, or the run
stops), then ``--sample`` + 20 family sign-ins are made through ``ledger.access.users``
(``create_user``, ``link_family`` as the person — adults' budgets, chosen at random, seeded —
and ``start_session``; the session token is the ``phb_session`` cookie), one budget each.

(a) Latency, in process: ``GET /family/budgets/{id}`` for each of ``--sample`` budgets (random
    order, ``--repeat`` rounds), after 20 warm-up requests on other budgets, each by its own
    family member, through the ASGI app (``web.app.create_app``, Starlette's TestClient); then
    the family API ``GET /api/v1/family/budgets/{id}`` the same way. Server time is taken at
    the ASGI boundary: from the app being called to it handing over the last body byte (the
    whole request: session look-up, access check, ledger reads, the access record and its
    commit, the page rendered). Target: the page's p95 < 50 ms. If it misses (or with
    ``--pyinstrument``) 50 pages are profiled with every handler run on the profiled thread,
    and where the time goes is printed by file:function and by package (ms a page, and as a
    share: the profiler's hooks slow every call). The CPU time of each request is reported
    beside its wall time, as a check on how busy the machine was.
(b) Load: a real server (``python -m web serve --no-scheduler``, uvicorn, one process) on a free
    loopback port, and wrk with ``web_load.lua``: ``--users`` connections for ``--duration``
    seconds, every request carrying one of ``--users`` family members' cookies in turn: the
    balance page, the family API and the start page (``--mix``, per cent), each connection
    asking again as soon as it is answered (or after a random pause averaging ``--think`` ms).
    Reported: requests per second, p50/p90/p95/p99/max latency as the client saw it, statuses,
    socket errors and timeouts (``--timeout``), requests the server failed (from its log), the
    server's CPU, and the access records written (one per page or API answer). PASS when every
    answer is 2xx and there is no socket error or timeout.

The clock: the set's plans run 3 Apr 2023 – 31 Mar 2026, so by default the family pages are
asked as on ``--today`` (25 Mar 2026, the set's last week: three years of entries behind it,
money still going on cards, this month's spending to sum). The pages' own idea of today
(``today_in_england`` and ``datetime.now`` in ``web.pages.family_pages`` and
``web.api.family``) is moved there for the run, in this process and in the server (started
then as ``python -m benchmarks.bench_web serve``: the same ``create_app`` and ``uvicorn.run``
as ``phb-ledger serve``, with that one change). Sessions and access records keep the real
clock. ``--today real`` asks as on the machine's date and serves with ``python -m web serve``.

Results are appended to ``out/web.jsonl``; the server's log goes to ``out/web-server.log``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from random import Random
from time import perf_counter, process_time

from sqlalchemy import event, func, select

from benchmarks import snapshots
from benchmarks.cli import exit_cleanly_on_sigterm, parser, verdict
from benchmarks.datasets import DATA_SETS, DataSetSpec
from benchmarks.results import Recorder, percentile
from benchmarks.stores import copy_sqlite, remove_sqlite, sqlite_url
from ledger.access.users import UserSpec, create_user, link_family, start_session
from ledger.budgets.parties import is_adult_on
from ledger.store import migrate
from ledger.store.database import Database
from ledger.store.tables import Budget, Person
from ledger.store.tables.access import AccessRecord
from ledger.store.tables.base import utcnow
from web.limits import DEFAULT_WORKER_THREADS

ROOT = Path(__file__).resolve().parent.parent
LOAD_SCRIPT = Path(__file__).with_name("web_load.lua")
DEFAULT_TODAY = "2026-03-25"
TARGET_P95_MS = 50.0
WARM_UP = 20
PROFILE_PAGES = 50
PASSWORD = "benchmark family sign-in 2026"
PAGE = "/family/budgets/{}"
API = "/api/v1/family/budgets/{}"


@dataclass(frozen=True, slots=True)
class Visitor:
    """A family member signed in, and the one budget linked to them."""

    user_id: int
    budget_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"cookie": f"phb_session={self.token}"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    args = _options().parse_args(argv)
    exit_cleanly_on_sigterm()
    spec = DATA_SETS[args.set]
    today = None if args.today == "real" else date.fromisoformat(args.today)
    work = args.out / snapshots.DB_DIR_NAME / f"web-bench-{spec.name}.sqlite"
    recorder = Recorder(args.out, "web", {"db": "sqlite", "set": spec.name, "today": args.today})
    passed: dict[str, bool] = {}
    try:
        facts = _work_copy(spec, args.out, args.batch_size, work, recorder)
        recorder.write({"event": "data_set", "entries": facts["entries"], "posted_with": facts.get("posted_with")})
        visitors = _sign_ins(sqlite_url(work), spec, args.sample + WARM_UP, today or date.today(), recorder)
        if not args.no_latency:
            passed.update(_latency_section(sqlite_url(work), visitors, args, today, recorder))
        if not args.no_load:
            passed.update(_load_section(sqlite_url(work), visitors[: args.users], args, today, recorder))
    finally:
        if not args.keep_db:
            remove_sqlite(work)
    recorder.write({"event": "verdicts", **{name: verdict(ok) for name, ok in passed.items()}})
    recorder.finish()
    print("overall: " + verdict(all(passed.values())), flush=True)
    return 0 if all(passed.values()) else 1


def _options():  # type: ignore[no-untyped-def]
    arguments = parser("The family's balance page: server time in process, then many users on a real server (SQLite).")
    arguments.set_defaults(set="icb", repeat=1)
    arguments.add_argument("--today", default=DEFAULT_TODAY, help="the day the pages are asked on (ISO date), or 'real'")
    arguments.add_argument("--sample", type=int, default=500, help="budgets (each with its own family member) in the latency sample")
    arguments.add_argument("--users", type=int, default=50, help="concurrent users (connections) in the load test")
    arguments.add_argument("--duration", type=int, default=60, help="seconds of load")
    arguments.add_argument("--threads", type=int, default=2, help="wrk threads")
    arguments.add_argument("--server-threads", type=int, default=DEFAULT_WORKER_THREADS, help="the server's threads for requests (serve --threads)")
    arguments.add_argument("--mix", default="70,20,10", help="per cent of balance pages, family API calls and start pages")
    arguments.add_argument("--think", type=int, default=0, help="mean ms each user waits before asking again (0: at once)")
    arguments.add_argument("--timeout", type=int, default=10, help="seconds before wrk counts a request as timed out")
    arguments.add_argument("--pyinstrument", action="store_true", help="profile 50 balance pages even when the target is met")
    arguments.add_argument("--no-latency", action="store_true", help="skip the in-process latency pass")
    arguments.add_argument("--no-load", action="store_true", help="skip the load test")
    arguments.add_argument("--keep-db", action="store_true", help="keep out/db/web-bench-<set>.sqlite afterwards")
    arguments.add_argument("--batch-size", type=int, default=50_000, help="entries per transaction if the set must be posted first")
    return arguments


# --- the database -------------------------------------------------------------------------


def _work_copy(spec: DataSetSpec, out_dir: Path, batch_size: int, work: Path, recorder: Recorder) -> dict[str, object]:
    """Copy the posted snapshot to ``work`` and migrate the copy. The snapshot: a current one;
    else one of the same data set made before the latest migrations, if its migrated copy has
    exactly the schema the migrations make today; else one posted now. Returns its marker."""
    found = snapshots.posted_snapshot(spec, out_dir)
    if found is None:
        path = snapshots.posted_path(spec, out_dir)
        marker = path.with_suffix(".json")
        if path.exists() and marker.exists():
            facts = json.loads(marker.read_text())
            if all(facts.get(key) == value for key, value in snapshots.fingerprint(spec).items()) and _migrated_copy(path, work, recorder):
                return facts
            print(f"{path.name}: made for another spec, or its migrated copy's schema is not today's: posting the set again", flush=True)
        found = snapshots.build_posted(spec, out_dir, batch_size)[:2]
    if not _migrated_copy(found[0], work, recorder):
        raise SystemExit(f"{work}: a current snapshot's copy does not have today's schema")
    return found[1]


def _revision(path: Path) -> str | None:
    with closing(sqlite3.connect(path)) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _migrated_copy(source: Path, work: Path, recorder: Recorder) -> bool:
    """Copy ``source`` to ``work`` and migrate the copy; whether its schema is then today's."""
    started = perf_counter()
    copy_sqlite(source, work)
    database = Database(sqlite_url(work))
    try:
        migrate.upgrade(database)
    finally:
        database.dispose()
    if snapshots.sqlite_schema(work) != snapshots.migrated_schema():
        remove_sqlite(work)
        return False
    facts = {"source": source.name, "source_revision": _revision(source), "revision": _revision(work), "seconds": round(perf_counter() - started, 1)}
    recorder.write({"event": "prepare", **facts})
    print(f"copied {source.name} (schema {facts['source_revision']}) and migrated the copy to {facts['revision']} in {facts['seconds']} s", flush=True)
    return True


def _sign_ins(url: str, spec: DataSetSpec, count: int, adult_on: date, recorder: Recorder) -> list[Visitor]:
    """``count`` family members, each linked as the person to one adult's budget (seeded)."""
    started = perf_counter()
    database = Database(url)
    try:
        with database.write() as session:
            people = session.execute(select(Budget.id, Person).join(Person, Person.id == Budget.person_id).order_by(Budget.id)).all()
            adults = [budget_id for budget_id, person in people if is_adult_on(person, adult_on)]
            if count > len(adults):
                raise SystemExit(f"the {spec.name} set has {len(adults)} adults' budgets: ask for --sample {len(adults) - WARM_UP} or fewer")
            chosen = Random(f"{spec.seed}:web").sample(adults, count)
            visitors = []
            for number, budget_id in enumerate(chosen, start=1):
                user = create_user(session, UserSpec(f"bench-family-{number:04d}@example.org", f"Family member {number}", "family", PASSWORD),
                                   created_by="benchmarks.bench_web")  # fmt: skip
                assert user.id is not None
                link_family(session, user.id, budget_id, created_by="benchmarks.bench_web")
                visitors.append(Visitor(user.id, budget_id, start_session(session, user).token))
    finally:
        database.dispose()
    recorder.write({"event": "sign_ins", "users": count, "budgets": len(people), "adults": len(adults), "seconds": round(perf_counter() - started, 1)})
    print(f"{count} family sign-ins, one budget each (of {len(adults):,} adults' budgets of {len(people):,}), in {perf_counter() - started:.1f} s", flush=True)
    return visitors


# --- the clock ----------------------------------------------------------------------------


@contextmanager
def moved_clock(today: date | None) -> Iterator[None]:
    """The family pages' and family API's idea of now, moved to ``today`` (same time of day)."""
    if today is None:
        yield
        return
    from web.api import family as family_api
    from web.clock import ENGLAND
    from web.pages import family_pages

    shift = today - datetime.now(ENGLAND).date()

    class MovedDateTime(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime.now(tz) + shift

    modules = (family_pages, family_api)
    originals = [(module, module.today_in_england, module.datetime) for module in modules]
    try:
        for module in modules:
            module.today_in_england = lambda: datetime.now(ENGLAND).date() + shift  # type: ignore[attr-defined]
            module.datetime = MovedDateTime  # type: ignore[attr-defined]
        yield
    finally:
        for module, today_function, datetime_class in originals:
            module.today_in_england = today_function  # type: ignore[attr-defined]
            module.datetime = datetime_class  # type: ignore[attr-defined]


def _serve(argv: list[str]) -> int:
    """``serve --db URL --port N --today D``: as ``phb-ledger serve --no-scheduler``, with the
    family pages' clock moved to D."""
    import argparse

    import uvicorn

    from web.app import create_app
    from web.cli_common import open_database

    arguments = argparse.ArgumentParser(prog="benchmarks.bench_web serve")
    arguments.add_argument("--db", required=True)
    arguments.add_argument("--port", type=int, required=True)
    arguments.add_argument("--today", type=date.fromisoformat, required=True)
    arguments.add_argument("--threads", type=int, default=DEFAULT_WORKER_THREADS)
    args = arguments.parse_args(argv)
    with moved_clock(args.today):
        app = create_app(open_database(args.db), run_scheduler=False, worker_threads=args.threads)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info")
    return 0


# --- (a) latency in process ----------------------------------------------------------------


class ServerTimer:
    """ASGI middleware: how long the app takes from being called to its last body byte, and
    the CPU time the process used meanwhile (one request at a time here, so the request's:
    what the time would be on an idle machine, apart from waiting for the disk)."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.last = 0.0
        self.last_cpu = 0.0

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, started_cpu = perf_counter(), process_time()

        async def timed_send(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.last, self.last_cpu = perf_counter() - started, process_time() - started_cpu
            await send(message)

        await self.app(scope, receive, timed_send)


def _check(response, path: str, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    good = response.status_code == 200 and (
        response.json().get("budget_id") == visitor.budget_id if path == API else "Money left this year" in response.text
    )
    if not good:
        raise RuntimeError(f"GET {path.format(visitor.budget_id)} answered {response.status_code}: {response.text[:400]}")


def _latency_section(url: str, visitors: list[Visitor], args, today: date | None, recorder: Recorder) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from web.app import create_app

    sample, warm_ups = visitors[: args.sample], visitors[args.sample :]
    timer = ServerTimer(create_app(Database(url), migrate_on_start=False))
    times: dict[str, dict[str, list[float]]] = {name: {"server": [], "cpu": [], "client": []} for name in ("page", "api")}
    rng = Random(f"{args.set}:web:order")
    load_before = os.getloadavg()[0]
    with moved_clock(today), TestClient(timer, base_url="https://testserver") as client:
        for visitor in warm_ups:
            for path in (PAGE, API):
                _check(client.get(path.format(visitor.budget_id), headers=visitor.headers), path, visitor)
        for name, path in (("page", PAGE), ("api", API)):
            for _ in range(args.repeat):
                order = list(sample)
                rng.shuffle(order)
                for visitor in order:
                    started = perf_counter()
                    response = client.get(path.format(visitor.budget_id), headers=visitor.headers)
                    times[name]["client"].append(perf_counter() - started)
                    _check(response, path, visitor)
                    times[name]["server"].append(timer.last)
                    times[name]["cpu"].append(timer.last_cpu)
    loads = (round(load_before, 2), round(os.getloadavg()[0], 2))
    print(f"(a) latency in process, {len(sample)} budgets × {args.repeat} round(s), each by its own family member, as on {today or 'today'}"
          f" (load average {loads[0]} → {loads[1]} on {os.cpu_count()} CPUs):", flush=True)  # fmt: skip
    results = {}
    for name, label in (("page", "balance page  GET /family/budgets/{id}        "), ("api", "family API    GET /api/v1/family/budgets/{id}")):
        server, cpu, client_side = (_ms_summary(times[name][kind]) for kind in ("server", "cpu", "client"))
        recorder.write({"event": f"latency_{name}", "requests": len(times[name]["server"]), "server_ms": server, "server_cpu_ms": cpu,
                        "client_ms": client_side, "load_average": loads})  # fmt: skip
        print(f"  {label} server ms: p50 {server['p50']:.1f}, p95 {server['p95']:.1f}, p99 {server['p99']:.1f}, max {server['max']:.1f},"
              f" mean {server['mean']:.1f}; its CPU: p50 {cpu['p50']:.1f}, p95 {cpu['p95']:.1f};"
              f" through the test client: p50 {client_side['p50']:.1f}, p95 {client_side['p95']:.1f}", flush=True)  # fmt: skip
        results[name] = server
    page_ok = results["page"]["p95"] < TARGET_P95_MS
    print(f"  balance page p95 {results['page']['p95']:.1f} ms — target < {TARGET_P95_MS:.0f} ms server time: {verdict(page_ok)}", flush=True)
    if not page_ok or args.pyinstrument:
        _profile(url, sample[:PROFILE_PAGES], today, args.out / f"web-profile-{args.set}", recorder)
    return {"page_p95": page_ok}


def _ms_summary(seconds: list[float]) -> dict[str, float]:
    values = [1000 * value for value in seconds]
    return {
        "p50": round(percentile(values, 50), 2), "p90": round(percentile(values, 90), 2), "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2), "max": round(max(values), 2), "mean": round(statistics.fmean(values), 2),
    }  # fmt: skip


# --- where the time goes -------------------------------------------------------------------


@contextmanager
def _threads_inline() -> Iterator[None]:
    """Run what the app hands to its thread pool on the calling thread, so that one profiler
    sees the whole request (for profiling only: it serialises the app)."""
    import anyio.to_thread

    original = anyio.to_thread.run_sync

    async def inline(function, *args, abandon_on_cancel=False, cancellable=None, limiter=None):  # type: ignore[no-untyped-def]
        return function(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original  # type: ignore[assignment]


def _profile(url: str, visitors: list[Visitor], today: date | None, out_stem: Path, recorder: Recorder) -> None:
    import httpx2
    from pyinstrument import Profiler

    from web.app import create_app

    database = Database(url)
    app = create_app(database, migrate_on_start=False)
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    statements: list[str] = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    async def pages() -> None:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="https://testserver") as client:
            for visitor in visitors[:5]:
                _check(await client.get(PAGE.format(visitor.budget_id), headers=visitor.headers), PAGE, visitor)
            event.listen(database.engine, "before_cursor_execute", count)
            profiler.start()
            for visitor in visitors:
                _check(await client.get(PAGE.format(visitor.budget_id), headers=visitor.headers), PAGE, visitor)
            profiler.stop()
            event.remove(database.engine, "before_cursor_execute", count)

    try:
        with moved_clock(today), _threads_inline():
            asyncio.run(pages())
    finally:
        database.dispose()
    out_stem.with_suffix(".txt").write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    out_stem.with_suffix(".html").write_text(profiler.output_html())
    session = profiler.last_session
    assert session is not None
    profiled_ms = session.duration * 1000 / len(visitors)
    places, packages = _where_time_goes(session.root_frame(), len(visitors))
    per_page = len(statements) / len(visitors)
    kinds = Counter(" ".join(statement.split()) for statement in statements)
    sql_path = out_stem.with_name(out_stem.name + "-sql.txt")
    sql_path.write_text("".join(f"{count / len(visitors):6.2f} a page  {text}\n\n" for text, count in kinds.most_common()))
    recorder.write({"event": "profile", "pages": len(visitors), "profiled_ms_per_page": round(profiled_ms, 2), "sql_statements_per_page": per_page,
                    "inclusive_ms_per_page": places, "own_ms_per_page_by_package": packages})  # fmt: skip
    print(f"  where a balance page's time goes: pyinstrument over {len(visitors)} pages, {profiled_ms:.1f} ms a page under the profiler"
          f" (its hooks slow every call; read the shares), {out_stem.with_suffix('.txt').name}; {per_page:.1f} SQL statements a page"
          f" (BEGIN included; each in {sql_path.name}):", flush=True)  # fmt: skip
    print("    inclusive (the function and what it calls), ms a page and % of the page:", flush=True)
    for place, ms in places[:30]:
        print(f"    {ms:7.2f} {100 * ms / profiled_ms:5.1f} %  {place}", flush=True)
    print("    own time by package (what runs where), ms a page and % of the page:", flush=True)
    for package, ms in packages[:16]:
        print(f"    {ms:7.2f} {100 * ms / profiled_ms:5.1f} %  {package}", flush=True)


LIBRARY_FRAMES = {"do_execute": "SQL run by SQLite (sqlalchemy do_execute)", "do_commit": "commit (sqlalchemy do_commit)",
                  "_fetchall_impl": "rows fetched (sqlalchemy _fetchall_impl)", "compile": "SQL compiled (sqlalchemy compile)"}  # fmt: skip


def _where_time_goes(root, pages: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:  # type: ignore[no-untyped-def]
    """Inclusive time of each project function (and of SQL execution, commit, template
    rendering), counted once per call stack; and own time grouped by package; in ms a page,
    largest first."""
    inclusive: dict[str, float] = defaultdict(float)
    own: dict[str, float] = defaultdict(float)
    stack: list[tuple[object, frozenset[str]]] = [(root, frozenset())]
    while stack:
        frame, active = stack.pop()
        key = _frame_key(frame)
        if key is not None and key not in active:
            inclusive[key] += frame.time  # type: ignore[attr-defined]
            active = active | {key}
        if not frame.is_synthetic_leaf:  # type: ignore[attr-defined]
            own[_package_of(frame)] += frame.time - sum(c.time for c in frame.children if not c.is_synthetic_leaf)  # type: ignore[attr-defined]
        stack.extend((child, active) for child in frame.children)  # type: ignore[attr-defined]

    def ranked(totals: dict[str, float]) -> list[tuple[str, float]]:
        return sorted(((key, round(1000 * seconds / pages, 2)) for key, seconds in totals.items()), key=lambda row: -row[1])

    return ranked(inclusive), ranked(own)


def _frame_key(frame) -> str | None:  # type: ignore[no-untyped-def]
    path = frame.file_path or ""
    project = str(ROOT) + os.sep
    if path.startswith(project) and f"{os.sep}.venv{os.sep}" not in path and f"{os.sep}benchmarks{os.sep}" not in path:
        return f"{path[len(project):]}:{frame.function}"
    if frame.function == "render":
        return "jinja2 Template.render (the page's HTML)" if f"{os.sep}jinja2{os.sep}" in path else None
    return LIBRARY_FRAMES.get(frame.function) if f"{os.sep}sqlalchemy{os.sep}" in path else None


def _package_of(frame) -> str:  # type: ignore[no-untyped-def]
    path = frame.file_path or ""
    if "site-packages" + os.sep in path:
        return path.split("site-packages" + os.sep, 1)[1].split(os.sep, 1)[0].removesuffix(".py")
    project = str(ROOT) + os.sep
    if path.startswith(project):
        return "project: " + path[len(project):].split(os.sep, 1)[0] + "/"
    if path == "<built-in>":
        if frame.function.startswith(("Connection.", "Cursor.")):
            return f"sqlite3 (C): {frame.function}"
        return _package_of(frame.parent) if frame.parent is not None else "other"
    return f"Python: {Path(path).name}" if path else "other"


# --- (b) many users on a real server -------------------------------------------------------


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_server(url: str, port: int, today: date | None, threads: int, log) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    if today is None:
        command = [sys.executable, "-m", "web", "serve", "--db", url, "--port", str(port), "--no-scheduler", "--threads", str(threads)]
    else:
        command = [sys.executable, "-m", "benchmarks.bench_web", "serve", "--db", url, "--port", str(port), "--today", today.isoformat(),
                   "--threads", str(threads)]  # fmt: skip
    log.write(f"\n--- {datetime.now().isoformat(timespec='seconds')} {' '.join(command)}\n")
    log.flush()
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _server_errors(log: Path, offset: int) -> tuple[int, list[str]]:
    """Requests the server failed (its log's "unexpected error" lines, from ``offset``) and the
    distinct exceptions behind them."""
    with log.open("rb") as text:
        text.seek(offset)
        lines = text.read().decode("utf-8", "replace").splitlines()
    failed = sum(1 for line in lines if line.startswith("unexpected error on "))
    reasons = sorted({line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)})
    return failed, reasons[:5]


def _warm(port: int, server: subprocess.Popen, visitors: list[Visitor]) -> None:
    """Wait for the server to answer, then ask each visitor's page once (and check it)."""
    import httpx2

    deadline = time.monotonic() + 120
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server stopped (exit {server.returncode}): see out/web-server.log")
            try:
                if client.get("/").status_code == 200:
                    break
            except httpx2.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        for visitor in visitors:
            _check(client.get(PAGE.format(visitor.budget_id), headers=visitor.headers), PAGE, visitor)
            _check(client.get(API.format(visitor.budget_id), headers=visitor.headers), API, visitor)


def _access_records(url: str, since: datetime) -> int:
    database = Database(url)
    try:
        with database.read() as session:
            return session.scalar(select(func.count()).select_from(AccessRecord).where(AccessRecord.at >= since)) or 0
    finally:
        database.dispose()


def _run_wrk(args, port: int, users_file: Path) -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    command = ["wrk", "-t", str(args.threads), "-c", str(args.users), "-d", f"{args.duration}s", "--timeout", f"{args.timeout}s",
               "-s", str(LOAD_SCRIPT), f"http://127.0.0.1:{port}", "--", str(users_file), args.mix, str(args.think)]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 120, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("WEB_LOAD_RESULT ")]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr[-2000:]}{finished.stdout[-2000:]}")
    return json.loads(lines[-1].removeprefix("WEB_LOAD_RESULT ")), finished.stdout


def _load_section(url: str, visitors: list[Visitor], args, today: date | None, recorder: Recorder) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    port = _free_port()
    users_file = args.out / f"web-load-users-{os.getpid()}.txt"
    users_file.write_text("".join(f"{v.token} {v.budget_id}\n" for v in visitors))
    log_path = args.out / "web-server.log"
    server = None
    with log_path.open("a") as log:
        offset = log.tell()
        try:
            server = _start_server(url, port, today, args.server_threads, log)
            _warm(port, server, visitors)
            since, cpu_before = utcnow(), _cpu_seconds(server.pid)
            result, wrk_output = _run_wrk(args, port, users_file)
            server_cpu = _cpu_seconds(server.pid) - cpu_before
        finally:
            users_file.unlink(missing_ok=True)
            if server is not None:
                _stop(server)
    result["server_cpu_s"] = round(server_cpu, 1)
    result["access_records"] = _access_records(url, since)
    result["server_failed"], result["server_errors"] = _server_errors(log_path, offset)
    return _report_load(result, wrk_output, args, recorder)


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _report_load(result: dict, wrk_output: str, args, recorder: Recorder) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    seconds = result["duration_us"] / 1e6
    statuses = {int(status): count for status, count in result["statuses"].items()}
    not_2xx = sum(count for status, count in statuses.items() if not 200 <= status < 300)
    socket_errors = sum(result["errors"][kind] for kind in ("connect", "read", "write", "timeout"))
    latency = {name: round(value / 1000, 2) for name, value in result["latency_us"].items()}
    rps = result["requests"] / seconds
    ok = not_2xx == 0 and socket_errors == 0 and result["requests"] > 0
    keep = ("requests", "errors", "issued", "server_cpu_s", "access_records", "server_failed", "server_errors")
    recorder.write({"event": "load", "users": args.users, "threads": args.threads, "server_threads": args.server_threads, "duration_s": round(seconds, 1), "mix": args.mix,
                    "think_ms": args.think, "timeout_s": args.timeout, "requests_per_s": round(rps, 1), "latency_ms": latency,
                    "statuses": statuses, **{key: result[key] for key in keep}, "load_average": os.getloadavg(), "wrk": wrk_output})  # fmt: skip
    issued = result["issued"]
    pause = f"a random 0–{2 * args.think} ms pause before each request" if args.think else "no pause between requests"
    print(f"(b) {args.users} users for {seconds:.0f} s on loopback (wrk, {args.threads} threads; server, {args.server_threads} request threads;"
          f" {args.mix} % pages/API/start; {pause}):", flush=True)  # fmt: skip
    print(f"  {result['requests']:,} requests, {rps:,.1f} requests/s (pages {issued['page']:,}, API {issued['api']:,}, start {issued['start']:,} issued)", flush=True)
    print(f"  latency ms: p50 {latency['p50']:.1f}, p90 {latency['p90']:.1f}, p95 {latency['p95']:.1f}, p99 {latency['p99']:.1f}, max {latency['max']:.1f}", flush=True)
    print(f"  statuses {dict(sorted(statuses.items()))}; socket errors {result['errors']}; server CPU {result['server_cpu_s']:.1f} s"
          f" ({100 * result['server_cpu_s'] / seconds:.0f} % of a core); access records written {result['access_records']:,}", flush=True)  # fmt: skip
    if result["server_failed"]:
        print(f"  the server failed {result['server_failed']} request(s) (out/web-server.log): {'; '.join(result['server_errors'])}", flush=True)
    print(f"  no errors: {verdict(ok)}", flush=True)
    return {"load_no_errors": ok}


if __name__ == "__main__":
    raise SystemExit(main())
