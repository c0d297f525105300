"""What the test suite's fixture worlds cost: the demo world built through the services (the old per-test set-up)
against the same world restored from its rows (tests/worlds.py), in interleaved rounds of one run.

    .venv/bin/python bench/world_bench.py                     # SQLite, in a temporary directory
    .venv/bin/python bench/world_bench.py --rounds 9 --database-url postgresql+psycopg://postgres@127.0.0.1/lvt_bench

The PostgreSQL database named is emptied and migrated first: give it one of its own. Prints the median of each,
per round the restore's time as a share of the build's, and the median of those shares.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.worlds import Worlds, empty_database  # noqa: E402
from webapp.db import make_engine, make_session_factory  # noqa: E402
from webapp.migrate import downgrade, upgrade  # noqa: E402
from webapp.services.clock import CHINA  # noqa: E402
from webapp.services.demo import demo  # noqa: E402
from webapp.services.papers.storage import LocalStorage  # noqa: E402

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--photos", action="store_true", help="the demo world with its papers' photos (4-5 s a build)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
        engine = make_engine(url)
        downgrade(engine, "base")
        upgrade(engine)
        session = make_session_factory(engine)()
        worlds = Worlds(engine, work / "kept")

        def store(name):
            return LocalStorage(work / name) if args.photos else None

        def uploads(name):
            return work / name if args.photos else None

        worlds.restore(session, "demo", lambda: demo.build(session, NOW, store("first")), uploads=uploads("first"))
        builds, restores = [], []
        for n in range(args.rounds):
            empty_database(engine)
            started = time.perf_counter()
            demo.build(session, NOW, store(f"built-{n}"))
            builds.append(time.perf_counter() - started)
            empty_database(engine)
            started = time.perf_counter()
            worlds.restore(session, "demo", lambda: None, uploads=uploads(f"restored-{n}"))
            restores.append(time.perf_counter() - started)
        session.close()
        engine.dispose()
    kind = engine.url.get_backend_name() + (" with photos" if args.photos else "")
    print(f"demo world on {kind}, {args.rounds} interleaved rounds")
    print(f"  built through the services: median {statistics.median(builds) * 1000:8.1f} ms")
    print(f"  restored from its rows:     median {statistics.median(restores) * 1000:8.1f} ms")
    shares = [r / b for r, b in zip(restores, builds)]
    print("  restore / build per round:  " + "  ".join(f"{s:.1%}" for s in shares))
    print(f"  median share: {statistics.median(shares):.1%}  (a restore is {1 / statistics.median(shares):.0f}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
