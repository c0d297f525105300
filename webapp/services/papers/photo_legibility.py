"""Is a photo of a paper legible? Focus per tile, too dark, washed out — measured with Pillow on a small grey
copy, so a customer can retake a useless photo at once rather than hear about it days later (issue 4)."""
from __future__ import annotations

import operator
from dataclasses import dataclass

from PIL import Image, ImageFilter

# ------------------------------------------------------------------------------------------------------------------
# Legibility

@dataclass(frozen=True)
class Measures:
    """focus: the Laplacian's standard deviation at ~500 px, 2nd-highest tile of an 8×8 grid; dark: the 0.1st
    percentile of luminance (0–255), bright: the 99th, mean: the mean, all on the ~1000 px grey copy."""
    focus: float
    dark: int
    bright: int
    mean: float


# Calibrated on tests/photo_corpus.document_photo (printed pages with sensor noise σ 5–7 levels, 800 to 4000 px wide,
# six seeds; the tests pin both sides of each line). Focus, by Gaussian blur σ expressed at the 1000 px scale:
# sharp pages 78–80, three short lines 54–64, σ 1 px 39–56 (reads well: passes), σ 1.5 px 21–25 (soft: passes,
# just), σ 2 px 13–19 (refused), σ 4 px 5–18 (refused; what remains is the noise, highest on small noisy photos).
# Dim (30 % exposure) 34–36, so light alone does not make a photo "blurry". Noise can only raise the measure: it may
# let a blurry photo through, never refuse a sharp one. Exposure: the brightest 1 % of a page shot at 15 % exposure
# is 37–39, at 20 % 49–50, at 25 % 60–61; the darkest 0.1 % (the ink) of a normal photo is ~30, washed out ×2 138, ×3 176.
FOCUS_MIN = 20.0       # below: "photo.blurry"
DARK_BRIGHT_MAX = 50   # brightest 1 % under ~20 % grey: nothing in the photo is lit
DARK_MEAN_MAX = 24     # or the whole frame is nearly black
WASHED_DARK_MIN = 165  # darkest 0.1 % lighter than ~65 % grey: even the ink is washed out

_LAPLACE = ImageFilter.Kernel((3, 3), (0, 1, 0, 1, -4, 1, 0, 1, 0), scale=1, offset=128)
_SQUARES = [(v - 128) ** 2 for v in range(256)]
GRID = 8


def measure(image: Image.Image) -> Measures:
    """The legibility measures of any image (tests probe them; `process` uses its own small copy)."""
    return _measures(small_copy(image if image.mode == "L" else image.convert("L")))


def legibility(image: Image.Image) -> str | None:
    """"photo.too_dark", "photo.overexposed" or "photo.blurry" when a paper in this photo cannot be read; None."""
    return judge(small_copy(image if image.mode == "L" else image.convert("L")))


def judge(gray: Image.Image) -> str | None:
    """Light first: a dark or washed-out photo also measures soft, and "more light" is the advice that helps."""
    m = _measures(gray)
    if m.bright < DARK_BRIGHT_MAX or m.mean < DARK_MEAN_MAX:
        return "photo.too_dark"
    if m.dark > WASHED_DARK_MIN:
        return "photo.overexposed"
    if m.focus < FOCUS_MIN:
        return "photo.blurry"
    return None


def _measures(gray: Image.Image) -> Measures:
    hist = gray.histogram()
    total = gray.width * gray.height
    return Measures(focus=_focus(gray), dark=_percentile(hist, total, 0.001), bright=_percentile(hist, total, 0.99),
                    mean=sum(map(operator.mul, hist, range(256))) / total)


def _focus(gray: Image.Image) -> float:
    """Sharpness where the page is sharpest. The Laplacian is taken at half the grey copy's size (~500 px): that
    halves the sensor noise it would otherwise measure, and keeps responding to a slightly soft photo (σ ≈ 1 px
    at 1000 px) that is still perfectly readable. Per tile, so a page with three lines of text (most tiles
    blank) counts as sharp as a full one; the 2nd-highest tile, so one odd tile does not decide."""
    half = gray.reduce(2) if min(gray.size) >= 400 else gray
    lap = half.filter(_LAPLACE)
    # Pillow's Kernel filter copies the border pixels unfiltered (grey levels, not Laplacian ~128): cut them off.
    lap = lap.crop((2, 2, lap.width - 2, lap.height - 2))
    w, h = lap.size
    if w < GRID or h < GRID:
        return 0.0
    spreads = []
    for i in range(GRID):
        for j in range(GRID):
            tile = lap.crop((i * w // GRID, j * h // GRID, (i + 1) * w // GRID, (j + 1) * h // GRID))
            hist = tile.histogram()
            count = sum(hist)
            mean = sum(map(operator.mul, hist, range(256))) / count
            spreads.append(max(0.0, sum(map(operator.mul, hist, _SQUARES)) / count - (mean - 128) ** 2) ** 0.5)
    spreads.sort()
    return spreads[-2]


def _percentile(hist: list[int], total: int, fraction: float) -> int:
    goal, seen = fraction * total, 0
    for value, count in enumerate(hist):
        seen += count
        if seen >= goal and seen:
            return value
    return 255

def small_copy(im: Image.Image, target: int = 1000) -> Image.Image:
    """About `target` pixels on the long side: an integer `reduce()` (a cheap box average of the full image),
    then a box resize when that overshoots by more than a quarter."""
    factor = max(1, max(im.size) // target)
    small = im.reduce(factor) if factor > 1 else im
    if max(small.size) > target * 5 // 4:
        scale = target / max(small.size)
        small = small.resize((max(1, round(small.width * scale)), max(1, round(small.height * scale))),
                             Image.Resampling.BOX)
    return small
