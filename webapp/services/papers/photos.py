"""One uploaded photo of a medical paper, checked and normalised before anything is stored.

The rules are SECURITY.md, section "Uploads": the size is checked before anything else; the type is decided
from the bytes only, against an allow-list (JPEG, PNG, WebP, HEIC/HEIF; never the file name or the client's
content type); a pixel cap well under Pillow's, checked from the header before anything is decoded (and Pillow's
own DecompressionBomb limit tied to it, never relied upon); one frame only; the image decoded fully, so a
truncated upload is refused with a "please retake" message; then EXIF orientation applied, alpha flattened,
converted to RGB and re-encoded as a fresh JPEG, so that no EXIF, GPS, XMP, ICC, comment or trailing byte
survives. Two checks go beyond Pillow, from a walk of the file's structure (JPEG markers, PNG chunks, RIFF,
ISO-BMFF boxes; photo_layouts.py): what follows the image's real end (an archive or a script appended to a photo is refused, a
phone's motion-photo video or second JPEG is not) and markup hidden in metadata. Last, a legibility check
(`legibility`, photo_legibility.py): a blurry, dark or washed-out photo of a paper is useless to the claims team, and the customer
can retake it now rather than days later.

Plain Python and Pillow, no Flask: `process(data)` returns a `Photo` or raises `PhotoRefused(key, **params)`,
whose key is one of `REASONS` (a services/refusals.Refused, worded by views/refusal_text.py). PhotoRefused is a
ValueError: a caller that also catches ValueError must catch PhotoRefused first.
"""
from __future__ import annotations

import hashlib
import io
import logging
import struct
import zlib
from dataclasses import dataclass

import pillow_heif
from PIL import Image

from ..refusals import Refused
from .photo_layouts import LAYOUTS, Layout, hostile_metadata, hostile_trailer, jpeg_layout, sniff
from .photo_legibility import FOCUS_MIN, Measures, judge, legibility, measure, small_copy

__all__ = ["FOCUS_MIN", "LIMITS", "REASONS", "Limits", "Measures", "Photo", "PhotoRefused", "jpeg_layout", "legibility",
           "measure", "process", "sniff"]

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()  # iPhone photos (BROWSER.md "Images"); registers the "HEIF" format

REASONS = frozenset({
    "photo.empty", "photo.too_large", "photo.format", "photo.too_many_pixels", "photo.frames", "photo.corrupt",
    "photo.colour", "photo.too_small", "photo.blurry", "photo.too_dark", "photo.overexposed", "photo.embedded",
})


class PhotoRefused(Refused, ValueError):
    """key: one of `REASONS`; params: values for the translated message (ints/strings)."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 15 * 1024 * 1024      # one photo
    max_pixels: int = 40_000_000           # well under Pillow's own bomb limit (~89 MP)
    min_short_side: int = 600              # legibility of a whole page
    min_long_side: int = 800
    # Stored pages are at most 2048 px on the long side: an A4 page filling the frame at ~175 dpi, where 6-pt
    # print is still ~14 px high. A 12 MP phone photo is decoded straight to half size (see `_draft`), and a
    # stored page is ~0.5 MB rather than 2–3 MB: quicker for a reviewer to open, cheaper to keep.
    max_long_side: int = 2048
    thumb_side: int = 320
    # The memory one decode takes, checked before it starts: a 481 KB lossless WebP of 40 MP with alpha decodes to
    # 160 MB (and cost a worker ~580 MB with libwebp's buffer and the RGB copy). 96 MB holds a 24 MP photo in
    # colour, so every 12–20 MP phone photo in any format passes (a JPEG is decoded reduced, see `_draft`).
    max_decoded_bytes: int = 96 * 1024 * 1024


LIMITS = Limits()

# Pillow warns (DecompressionBombWarning) above MAX_IMAGE_PIXELS and raises above twice that. Tied to our cap and
# never relied upon: `process` refuses from the header first, so an image Pillow would warn about never gets to
# Pillow, and a larger `Limits.max_pixels` than this is capped to it (see `_pixel_cap`).
Image.MAX_IMAGE_PIXELS = LIMITS.max_pixels


@dataclass(frozen=True)
class Photo:
    image: bytes        # the normalised JPEG that gets stored
    thumbnail: bytes    # JPEG, long side <= thumb_side
    sha256: str         # hex digest of `image`
    width: int          # of `image`, after orientation
    height: int
    source_format: str  # "JPEG" | "PNG" | "WEBP" | "HEIF"


JPEG_QUALITY = 85
THUMB_QUALITY = 80
ACCEPTED_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA"})
# What Pillow may raise on hostile bytes, beyond OSError (which includes UnidentifiedImageError): its parsers use
# struct, zlib, asserts and indexing; libheif errors arrive as RuntimeError/ValueError; deeply nested EXIF IFDs as
# RecursionError (a RuntimeError). With warnings turned into errors (pytest here, `-W error`) a warning Pillow
# gives about user bytes (a malformed MPO header, corrupt EXIF) arrives as an exception too: it is a refusal.
PILLOW_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError, struct.error,
                 zlib.error, RuntimeError, AssertionError, OverflowError, ZeroDivisionError, MemoryError,
                 Image.DecompressionBombError, Warning)


# ------------------------------------------------------------------------------------------------------------------
# The pipeline

def process(data: bytes, *, limits: Limits = LIMITS) -> Photo:
    """The normalised photo, or PhotoRefused. Cheap refusals first: nothing is decoded before the size, the
    format, the header's pixel count and resolution and the hidden-content checks have passed."""
    if not data:
        raise PhotoRefused("photo.empty")
    if len(data) > limits.max_bytes:
        raise PhotoRefused("photo.too_large", max_mb=limits.max_bytes // (1024 * 1024))
    fmt = sniff(data)
    if fmt is None:
        raise PhotoRefused("photo.format")
    layout = LAYOUTS[fmt](data)
    _check_header(layout.width, layout.height, limits)
    if layout.broken:
        raise PhotoRefused("photo.corrupt")
    if (layout.hidden or any(hostile_metadata(blob) for blob in layout.metadata)
            or hostile_trailer(data, layout.end)):
        raise PhotoRefused("photo.embedded")

    im = _decode(_for_pillow(data, layout) if fmt == "JPEG" else data, fmt, limits)
    try:
        orientation = _exif_orientation(layout.exif) if fmt != "HEIF" else 1  # libheif applies HEIF's own
        im = _to_rgb(im)
        small = small_copy(im)
        reason = judge(small.convert("L"))
        if reason:
            raise PhotoRefused(reason)
        if max(im.size) > limits.max_long_side:
            im = _scale_down(im, limits.max_long_side)
        turn = TRANSPOSE.get(orientation)
        if turn is not None:
            small = small.transpose(turn)  # first: `small` may be `im` itself when no reduction was needed
            im = _replace(im, im.transpose(turn))
        thumbnail = _encode(_fit(small, limits.thumb_side), THUMB_QUALITY)
        image = _encode(im, JPEG_QUALITY)
        return Photo(image=image, thumbnail=thumbnail, sha256=hashlib.sha256(image).hexdigest(),
                     width=im.width, height=im.height, source_format=fmt)
    finally:
        im.close()


def _check_header(width: int, height: int, limits: Limits) -> None:
    if width * height > _pixel_cap(limits):
        raise PhotoRefused("photo.too_many_pixels", max_mp=_pixel_cap(limits) // 1_000_000)
    if width <= 0 or height <= 0:
        raise PhotoRefused("photo.corrupt")  # a header claiming 0×0 is not a photo that can be retaken smaller
    if min(width, height) < limits.min_short_side or max(width, height) < limits.min_long_side:
        raise PhotoRefused("photo.too_small", min_side=limits.min_short_side)


def _pixel_cap(limits: Limits) -> int:
    pillow = Image.MAX_IMAGE_PIXELS
    return limits.max_pixels if pillow is None else min(limits.max_pixels, pillow)


def _decode(data: bytes, fmt: str, limits: Limits) -> Image.Image:
    """Open with that one format's plugin, check what the header check could not know, decode every pixel."""
    try:
        im = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise PhotoRefused("photo.too_many_pixels", max_mp=_pixel_cap(limits) // 1_000_000) from e
    except PILLOW_ERRORS as e:
        log.info("photo refused as corrupt on open: %r", e)
        raise PhotoRefused("photo.corrupt") from e
    try:
        _check_header(im.width, im.height, limits)  # Pillow's idea of the size, in case it differs from ours
        if getattr(im, "n_frames", 1) > 1:  # a burst, an animation, an image sequence
            raise PhotoRefused("photo.frames")
        if im.mode not in ACCEPTED_MODES:
            raise PhotoRefused("photo.colour")
        if fmt == "HEIF" and any(hostile_metadata(im.info.get(k) or b"") for k in ("exif", "xmp")):
            raise PhotoRefused("photo.embedded")  # HEIF metadata lives in items our box walk does not read
        if fmt == "JPEG":
            _draft(im, limits.max_long_side)
        if decoded_bytes(im) > limits.max_decoded_bytes:
            raise PhotoRefused("photo.too_many_pixels",
                               max_mp=limits.max_decoded_bytes // _BYTES_PER_PIXEL.get(im.mode, 4) // 1_000_000)
        im.load()
        if fmt == "JPEG" and _grey_tail(im):
            raise PhotoRefused("photo.corrupt")
        return im
    except PhotoRefused:  # first: it is a ValueError, which the next clauses would turn into "corrupt"
        im.close()
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        im.close()
        raise PhotoRefused("photo.too_many_pixels", max_mp=_pixel_cap(limits) // 1_000_000) from e
    except PILLOW_ERRORS as e:
        im.close()
        log.info("photo refused as corrupt on decode: %r", e)
        raise PhotoRefused("photo.corrupt") from e


# Bytes per pixel as Pillow holds an image in memory: one byte for "1", "L" and "P"; every pixel of two to four
# bands ("LA", "PA", "RGB", "RGBA") in four bytes, one per band rounded up to a 32-bit word.
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1}


def decoded_bytes(im: Image.Image) -> int:
    """width × height × bands × bytes per band that decoding `im` (opened, not loaded) will allocate."""
    return im.width * im.height * _BYTES_PER_PIXEL.get(im.mode, 4)


def _for_pillow(data: bytes, layout: Layout) -> bytes:
    """The JPEG as Pillow gets it: up to its EOI, without APP1–APP13, APP15 and COM segments. What we discard
    anyway, Pillow need not parse: it reads EXIF in Python on open (for the dpi, whenever there is no JFIF header,
    as in every iPhone JPEG) and warns on a malformed one; it turns an MPF index (APP2) into an "MPO" with two
    frames, though a phone's second image (a gain map, a preview) is not a second photo. Orientation was read from
    the EXIF by `_exif_orientation`; JFIF (APP0) and Adobe (APP14) stay, they say how to read the colours."""
    view, pieces, at = memoryview(data), [], 0
    for start, stop in layout.drop:
        pieces.append(view[at:start])
        at = stop
    pieces.append(view[at:layout.end])
    return b"".join(pieces)


def _grey_tail(im: Image.Image) -> bool:
    """A JPEG cut short and closed with an EOI (or with a marker in its scan) decodes without an error: libjpeg
    only warns, and fills what is missing with flat mid-grey. No camera writes eight bottom rows of exactly 128
    (a screenshot with an exactly #808080 bottom bar would be refused: a price paid knowingly)."""
    extrema = im.crop((0, max(0, im.height - 8), im.width, im.height)).getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    return all(band == (128, 128) for band in bands)


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB, whatever came in; transparency flattened onto white paper."""
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im if im.mode == "RGBA" else im.convert("RGBA")
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return _replace(im, flat)
    return _replace(im, im.convert("RGB"))


def _replace(old: Image.Image, new: Image.Image) -> Image.Image:
    """`new`, with `old`'s pixels released now rather than at garbage collection (peak memory)."""
    if new is not old:
        old.close()
    return new


def _draft(im: Image.Image, long_side: int) -> None:
    """Have libjpeg decode at 1/2, 1/4 or 1/8 scale, inside its inverse DCT (far cheaper than decoding every
    pixel and resizing after), when that still leaves at least three quarters of the stored long side: a
    4000×3000 phone photo decodes straight to 2000×1500. Every byte of the scan is still decoded and checked."""
    scale = 1
    while scale < 8 and max(im.size) / (scale * 2) >= long_side * 0.75:
        scale *= 2
    if scale > 1:
        im.draft(None, (im.width // scale, im.height // scale))


def _scale_down(im: Image.Image, long_side: int) -> Image.Image:
    w, h = im.size
    scale = long_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # HAMMING: sharper than BILINEAR at its cost; LANCZOS is ~2× slower (27 → 12.6 MP: 190 vs 370 ms).
    return _replace(im, im.resize(size, Image.Resampling.HAMMING, reducing_gap=3.0))




def _fit(im: Image.Image, side: int) -> Image.Image:
    w, h = im.size
    if max(w, h) <= side:
        return im
    scale = side / max(w, h)
    return im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BICUBIC,
                     reducing_gap=1.5)


def _encode(im: Image.Image, quality: int) -> bytes:
    """A fresh baseline JPEG and nothing else: Pillow's JPEG writer takes exif, icc_profile, xmp and dpi from the
    save() arguments only, but falls back to `im.info["comment"]` for the comment; so `info` is emptied."""
    im.info = {}
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, subsampling="4:2:0", optimize=False, progressive=False)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------------------------
# Orientation

# The transposition that shows stored pixels upright, per EXIF orientation (as ImageOps.exif_transpose).
TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
             5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_90}


def _exif_orientation(exif: bytes | None) -> int:
    """Tag 0x0112 of IFD0, read from the raw TIFF structure. Not `Image.getexif()`: that parses every IFD of an
    attacker's EXIF and warns on malformed ones; one tag needs twenty lines. Browsers only honour EXIF's
    orientation (not XMP's), so neither do we: what the customer saw is what gets stored."""
    if not exif:
        return 1
    if exif.startswith(b"Exif\x00\x00"):
        exif = exif[6:]
    if len(exif) < 8 or exif[:2] not in (b"II", b"MM"):
        return 1
    order = "<" if exif[:2] == b"II" else ">"
    magic, ifd = struct.unpack_from(order + "HI", exif, 2)
    if magic != 42 or ifd + 2 > len(exif):
        return 1
    (count,) = struct.unpack_from(order + "H", exif, ifd)
    for i in range(min(count, 512)):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(exif):
            break
        tag, kind, n = struct.unpack_from(order + "HHI", exif, entry)
        if tag == 0x0112:
            if kind != 3 or n < 1:  # SHORT
                return 1
            (value,) = struct.unpack_from(order + "H", exif, entry + 8)
            return value if 1 <= value <= 8 else 1
    return 1
