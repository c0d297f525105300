"""The cost of checking and normalising one phone photo, against a bare Pillow decode of the same photo.

    .venv/bin/python bench/photo_bench.py [--rounds 7] [--repeat 3] [--quality 92] [--orientation 6]

Generates one realistic 4000×3000 phone JPEG (tests/photo_corpus.document_photo: a printed page on a desk, noise,
vignette; quality 92, EXIF orientation 6 and GPS, as an iPhone or Android phone writes a portrait photo), then, in
interleaved rounds so that a machine speeding up or slowing down moves both alike:
  - `decode`: `Image.open(BytesIO(data)).load()`, the floor any upload handling pays;
  - `process`: `webapp.services.papers.photos.process(data)`, everything (checks, orientation, legibility, re-encode).
Prints the medians, their ratio and each round's ratio, and the peak memory of one call of each. Target: process
at most 2.0× decode. Exit code 0 when met, 1 when not. Runs in one process, no server.
"""
from __future__ import annotations

import argparse
import gc
import io
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from tests.photo_corpus import document_photo  # noqa: E402
from webapp.services.papers import photos  # noqa: E402

TARGET = 2.0  # process() at most twice a bare decode


def decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        im.load()


def process(data: bytes) -> None:
    photos.process(data)


def timed(fn, data: bytes, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(data)
        out.append(time.perf_counter() - start)
    return out


def _status(field: str) -> int | None:
    """A /proc/self/status figure in bytes (VmRSS, VmHWM), or None where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_child(name: str, path: Path) -> None:
    """In a fresh process (`--peak NAME FILE`): one call, then the peak RSS above the RSS before it and tracemalloc's
    peak, printed as two integers. Fresh, because a process that has already decoded photos keeps the freed memory
    (glibc's heap) and its RSS no longer moves."""
    data = path.read_bytes()
    fn = {"decode": decode, "process": process}[name]
    gc.collect()
    before = _status("VmRSS")
    fn(data)
    peak = _status("VmHWM")
    tracemalloc.start()
    fn(data)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(-1 if before is None or peak is None else peak - before, traced)


def peak_memory(name: str, data: bytes) -> tuple[int | None, int]:
    """(peak RSS of one call above the RSS before it, or None without /proc; tracemalloc's peak).

    tracemalloc sees Python's allocations only (the input and output bytes, BytesIO buffers); Pillow's pixel
    buffers are C allocations, which only the RSS shows.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        path.write_bytes(data)
        done = subprocess.run([sys.executable, __file__, "--peak", name, str(path)], capture_output=True, text=True,
                              check=True)
    rss, traced = (int(x) for x in done.stdout.split())
    return (None if rss < 0 else rss), traced


def mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--repeat", type=int, default=3, help="calls of each per round (default 3)")
    parser.add_argument("--quality", type=int, default=92, help="JPEG quality of the generated photo (default 92)")
    parser.add_argument("--peak", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)  # the child
    parser.add_argument("--orientation", type=int, default=6, choices=range(1, 9),
                        help="EXIF orientation of the generated photo (default 6, a portrait photo; 1 needs no turn)")
    args = parser.parse_args(argv)
    if args.peak:
        peak_child(args.peak[0], Path(args.peak[1]))
        return 0

    start = time.perf_counter()
    data = document_photo(4000, 3000, orientation=args.orientation, exif=True, quality=args.quality, text_seed=7)
    print(f"photo: 4000×3000 JPEG q{args.quality}, EXIF orientation {args.orientation} + GPS, {len(data) / 1e6:.2f} MB "
          f"(generated in {time.perf_counter() - start:.1f} s)")
    photo = photos.process(data)  # also the warm-up; a refusal here is a bug worth a traceback
    decode(data)
    print(f"stored: {photo.width}×{photo.height} JPEG, {len(photo.image) / 1e6:.2f} MB; thumbnail "
          f"{len(photo.thumbnail) / 1e3:.1f} kB")

    times: dict[str, list[float]] = {"decode": [], "process": []}
    ratios = []
    for number in range(args.rounds):
        order = [("decode", decode), ("process", process)]
        if number % 2:
            order.reverse()  # neither always goes first
        this = {}
        for name, fn in order:
            got = timed(fn, data, args.repeat)
            times[name] += got
            this[name] = statistics.median(got)
        ratios.append(this["process"] / this["decode"])
        print(f"  round {number + 1}/{args.rounds}: decode {this['decode'] * 1e3:.1f} ms, "
              f"process {this['process'] * 1e3:.1f} ms, ratio {ratios[-1]:.2f}")

    d, p = statistics.median(times["decode"]), statistics.median(times["process"])
    ratio = p / d
    print(f"median decode  {d * 1e3:7.1f} ms")
    print(f"median process {p * 1e3:7.1f} ms")
    print(f"ratio {ratio:.2f}× (median of rounds {statistics.median(ratios):.2f}×), target ≤ {TARGET:.1f}×")
    for name in ("decode", "process"):
        rss, traced = peak_memory(name, data)
        print(f"peak memory of one {name} (fresh process): RSS +{mb(rss)}, tracemalloc {mb(traced)}")
    met = ratio <= TARGET
    print("target met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
