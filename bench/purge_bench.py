"""papers-sweep and papers-purge at 100k pages on PostgreSQL: peak memory, time and transactions of each command.

    .venv/bin/python bench/purge_bench.py                                  # 100 000 pages, database lvt_purge_bench
    .venv/bin/python bench/purge_bench.py --pages 20000 --database lvt_ops_bench

Issue 16 asks that both stay under 200 MB RSS at 100k pages, each batch its own transaction (before: purge took
20.6 minutes in one transaction at 10k pages, sweep used 857 MB at 100k). The named database (on the PostgreSQL of
--server, user postgres) is dropped and made afresh, migrated, given the demo world, then by bulk insert
(generate_series) `pages / 2` applications closed 400 days ago with one paper of two pages each; every page gets
its image and thumbnail as tiny files in a local upload folder (marked as the shared store). Some files are then
removed (lost pages) and some added (orphans). Each command runs in a child process as cron runs it
(`flask --app wsgi papers-sweep --grace-minutes 0`, then `papers-purge --days 180`; first `calendar-status`, the
app's own floor); printed per command: wall time,
the child's peak RSS (getrusage of children, and the child's own), and how many transactions it committed (an
SQLAlchemy commit event counted in the child). The database is dropped at the end unless --keep.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from webapp.db import make_engine, make_session_factory  # noqa: E402
from webapp.migrate import upgrade  # noqa: E402
from webapp.services.demo import demo  # noqa: E402
from webapp.services.papers.storage import LocalStorage  # noqa: E402

LOST, ORPHANS = 200, 200

# Runs in the child: counts committed transactions, runs the flask command, writes what it saw to a JSON file.
CHILD = """
import json, resource, sys, time
from sqlalchemy import event
from sqlalchemy.engine import Engine
seen = {"commits": 0, "rollbacks": 0}
event.listen(Engine, "commit", lambda conn: seen.__setitem__("commits", seen["commits"] + 1))
event.listen(Engine, "rollback", lambda conn: seen.__setitem__("rollbacks", seen["rollbacks"] + 1))
from flask.cli import main
out, sys.argv = sys.argv[1], ["flask", "--app", "wsgi", *sys.argv[2:]]
started = time.perf_counter()
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
seen.update(seconds=time.perf_counter() - started, exit=code,
            own_peak_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
with open(out, "w") as f:
    json.dump(seen, f)
"""


def build(url: str, pages: int, uploads: Path) -> int:
    """The demo world, then `pages` pages of long-closed applications by bulk insert; their files on disk.
    Returns how many page rows there are in all."""
    engine = make_engine(url)
    upgrade(engine)
    session = make_session_factory(engine)()
    demo.build(session, datetime.now(timezone.utc), None)
    session.commit()
    session.close()
    old = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=400)
    apps = pages // 2
    started = time.perf_counter()
    with engine.begin() as conn:
        template = conn.execute(text("SELECT id FROM bookings ORDER BY id LIMIT 1")).scalar_one()
        person, account = conn.execute(text(
            "SELECT p.insured_id, b.applicant_account_id FROM bookings b JOIN policies p ON p.id = b.policy_id "
            "WHERE b.id = :id"), {"id": template}).one()
        conn.execute(text(
            "INSERT INTO bookings (reference, policy_id, service_id, entitlement_id, applicant_account_id, acting_as, "
            " request_key, state, units, change_rule, details, applied_at, updated_at, closed_at) "
            "SELECT 'PB' || lpad(g::text, 10, '0'), b.policy_id, b.service_id, b.entitlement_id, b.applicant_account_id,"
            " b.acting_as, 'purge-bench-' || g, 'completed', b.units, b.change_rule, b.details, :old, :old, :old "
            "FROM generate_series(1, :n) g, bookings b WHERE b.id = :id"), {"n": apps, "old": old, "id": template})
        conn.execute(text(
            "INSERT INTO documents (booking_id, person_id, kind, status, created_at, updated_at) "
            "SELECT id, :person, 'diagnosis', 'received', :old, :old FROM bookings WHERE request_key LIKE 'purge-bench-%'"),
            {"person": person, "old": old})
        conn.execute(text(
            "INSERT INTO document_pages (public_id, document_id, position, storage_key, thumbnail_key, sha256, width, "
            " height, byte_size, status, uploaded_by_id, created_at) "
            "SELECT substr(md5('pub' || d.id || '-' || p), 1, 24), d.id, p, k.key, k.key || '.t', "
            " md5(d.id || '/' || p) || md5(p || '/' || d.id), 1200, 1600, 10, 'received', :account, :old "
            "FROM documents d JOIN bookings b ON b.id = d.booking_id CROSS JOIN generate_series(0, 1) p "
            "CROSS JOIN LATERAL (SELECT md5(random()::text || d.id || '-' || p) AS key) k "
            "WHERE b.request_key LIKE 'purge-bench-%'"), {"account": account, "old": old})
        conn.execute(text("ANALYZE"))
    print(f"  {apps} applications, {apps} papers, {2 * apps} pages inserted in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    store = LocalStorage(uploads).mark_shared()
    made_shards = set()
    written = 0
    with engine.connect().execution_options(stream_results=True, yield_per=5000) as conn:
        for key, thumb in conn.execute(text("SELECT storage_key, thumbnail_key FROM document_pages")):
            shard = store.objects / key[:2]
            if key[:2] not in made_shards:
                shard.mkdir(mode=0o700, exist_ok=True)
                made_shards.add(key[:2])
            for name in (key, thumb):
                (shard / name).write_bytes(b"page")
                written += 1
        lost = conn.execute(text("SELECT storage_key FROM document_pages ORDER BY random() LIMIT :n"), {"n": LOST}).scalars().all()
    for key in lost:
        store.delete(key)
    for _ in range(ORPHANS):
        store.put(secrets.token_hex(16), b"orphan")
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM document_pages")).scalar_one()
    engine.dispose()
    print(f"  {written} files written, {LOST} removed (lost pages), {ORPHANS} orphans added in "
          f"{time.perf_counter() - started:.1f} s")
    return total


def run(command: list[str], env: dict, work: Path) -> dict:
    out = work / f"{command[0]}.json"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out), *command], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=3600)
    seen = json.loads(out.read_text()) if out.exists() else {}
    seen.update(wall=time.perf_counter() - started, output=proc.stdout.strip() or proc.stderr.strip()[-2000:],
                children_peak_kb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1")
    parser.add_argument("--database", default="lvt_purge_bench")
    parser.add_argument("--keep", action="store_true", help="leave the database and the folder for a look")
    args = parser.parse_args()
    admin = create_engine(f"{args.server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{args.database}"'))
    url = f"{args.server}/{args.database}"
    work = Path(tempfile.mkdtemp(prefix="purge_bench_"))
    try:
        print(f"building {args.pages} pages in {args.database} (uploads in {work / 'uploads'}):")
        total = build(url, args.pages, work / "uploads")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LVTONG_ENV": "development", "DATABASE_URL": url,
               "UPLOAD_DIR": str(work / "uploads"), "STORAGE_BACKEND": "local", "HOME": str(work)}
        print(f"\n{total} page rows, {2 * total - LOST + ORPHANS} files:")
        # calendar-status: the app loaded and one small query, the floor under both commands' memory.
        for command in (["calendar-status"], ["papers-sweep", "--grace-minutes", "0"], ["papers-purge", "--days", "180"]):
            seen = run(command, env, work)
            print(f"  {command[0]:13} {seen.get('seconds', float('nan')):7.1f} s   peak RSS {seen.get('own_peak_kb', 0) / 1024:6.1f} MB"
                  f" (children so far: {seen['children_peak_kb'] / 1024:.1f} MB)   {seen.get('commits', '?')} transactions"
                  f" committed, {seen.get('rollbacks', '?')} read-only ended   exit {seen.get('exit', '?')}")
            print(f"                {seen['output']}")
        with create_engine(url).connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM document_pages")).scalar_one()
        files = sum(1 for _ in LocalStorage(work / "uploads").keys())
        print(f"\nafter both: {left} page rows, {files} files")
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
