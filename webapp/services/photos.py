"""One uploaded photo of a medical paper, checked and normalised before anything is stored.

The rules are SECURITY.md, section "Uploads": the size is checked before anything else; the type is decided
from the bytes only, against an allow-list (JPEG, PNG, WebP, HEIC/HEIF; never the file name or the client's
content type); a pixel cap well under Pillow's, checked from the header before anything is decoded (and Pillow's
own DecompressionBomb limit tied to it, never relied upon); one frame only; the image decoded fully, so a
truncated upload is refused with a "please retake" message; then EXIF orientation applied, alpha flattened,
converted to RGB and re-encoded as a fresh JPEG, so that no EXIF, GPS, XMP, ICC, comment or trailing byte
survives. Two checks go beyond Pillow, from a walk of the file's structure (JPEG markers, PNG chunks, RIFF,
ISO-BMFF boxes): what follows the image's real end (an archive or a script appended to a photo is refused, a
phone's motion-photo video or second JPEG is not) and markup hidden in metadata. Last, a legibility check
(`legibility`): a blurry, dark or washed-out photo of a paper is useless to the claims team, and the customer
can retake it now rather than days later.

Plain Python and Pillow, no Flask: `process(data)` returns a `Photo` or raises `PhotoRefused(reason, **params)`,
whose reason is a stable key the web layer translates (`REASONS`). PhotoRefused is a ValueError: a caller that
also catches ValueError must catch PhotoRefused first.
"""
from __future__ import annotations

import hashlib
import io
import logging
import operator
import re
import struct
import zlib
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageFilter, PngImagePlugin

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()  # iPhone photos (BROWSER.md "Images"); registers the "HEIF" format

REASONS = frozenset({
    "photo.empty", "photo.too_large", "photo.format", "photo.too_many_pixels", "photo.frames", "photo.corrupt",
    "photo.colour", "photo.too_small", "photo.blurry", "photo.too_dark", "photo.overexposed", "photo.embedded",
})


class PhotoRefused(ValueError):
    """reason: a stable key (one of `REASONS`); params: values for the translated message (ints/strings)."""

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason = reason
        self.params = params

    def __str__(self) -> str:
        return f"{self.reason} {self.params}" if self.params else self.reason


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
    if (layout.hidden or any(_hostile_metadata(blob) for blob in layout.metadata)
            or _hostile_trailer(data, layout.end)):
        raise PhotoRefused("photo.embedded")

    im = _decode(_for_pillow(data, layout) if fmt == "JPEG" else data, fmt, limits)
    try:
        orientation = _exif_orientation(layout.exif) if fmt != "HEIF" else 1  # libheif applies HEIF's own
        im = _to_rgb(im)
        small = _small_copy(im)
        reason = _judge(small.convert("L"))
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
        if fmt == "HEIF" and any(_hostile_metadata(im.info.get(k) or b"") for k in ("exif", "xmp")):
            raise PhotoRefused("photo.embedded")  # HEIF metadata lives in items our box walk does not read
        if fmt == "JPEG":
            _draft(im, limits.max_long_side)
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


def _small_copy(im: Image.Image, target: int = 1000) -> Image.Image:
    """About `target` pixels on the long side: an integer `reduce()` (a cheap box average of the full image),
    then a box resize when that overshoots by more than a quarter."""
    factor = max(1, max(im.size) // target)
    small = im.reduce(factor) if factor > 1 else im
    if max(small.size) > target * 5 // 4:
        scale = target / max(small.size)
        small = small.resize((max(1, round(small.width * scale)), max(1, round(small.height * scale))),
                             Image.Resampling.BOX)
    return small


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


# ------------------------------------------------------------------------------------------------------------------
# Format from the bytes

HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})


def sniff(data: bytes) -> str | None:
    """The format from the magic bytes only, or None: "JPEG", "PNG", "WEBP" or "HEIF".

    HEIF is an ISO-BMFF `ftyp` box whose major brand is a HEIF one; AVIF shares that container (and the generic
    `mif1` brand) and is told apart by its `avif`/`avis` brands, then refused like any other format.
    """
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and len(data) >= 16:
        size = int.from_bytes(data[:4], "big")
        if not 16 <= size <= min(len(data), 4096) or size % 4:
            return None
        brands = {data[i:i + 4] for i in range(16, size, 4)} | {data[8:12]}
        if data[8:12] in HEIF_BRANDS and not brands & AVIF_BRANDS:
            return "HEIF"
    return None


# ------------------------------------------------------------------------------------------------------------------
# Structure: where the image really ends, its size, its metadata (walked by hand: Pillow stops reading early)

@dataclass
class Layout:
    width: int = 0
    height: int = 0
    end: int | None = None       # offset just past the image (JPEG EOI, PNG IEND, RIFF size, last HEIF box)
    broken: bool = False         # truncated, or a structure no decoder should be asked to read
    metadata: tuple = ()         # raw metadata blobs to scan for hidden content
    exif: bytes | None = None    # the EXIF block (TIFF structure, maybe behind "Exif\0\0")
    hidden: bool = False         # something no photo carries (a text chunk over MAX_TEXT)
    drop: tuple = ()             # JPEG: (start, stop) of the metadata segments Pillow need not see

    def __post_init__(self):
        if self.end is None:
            self.broken = True


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}      # frame headers (not DHT, JPG, DAC)
_AFTER_SCAN = frozenset({0xC4, 0xCC, 0xDA, 0xDB, 0xDC, 0xDD, 0xFE} | set(range(0xE0, 0xF0)))
_SCAN_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")    # in entropy-coded data: stuffed FF00 and RSTn skipped
_FILL = re.compile(rb"\xff+")
MAX_FILL = 64  # encoders write none or a few


def jpeg_layout(data: bytes, start: int = 0) -> Layout:
    """Walk a JPEG's markers from SOI to EOI: segment lengths before the first scan, then marker search through the
    entropy-coded data (a regex, so a 4 MB scan costs ~2 ms). Markers a camera never writes inside or after a scan
    (a second frame header, SOI, reserved codes) make it broken: libjpeg would decode the rest as grey."""
    n, pos, width, height, meta, exif, scanned, drop = len(data), start + 2, 0, 0, [], None, False, []
    for _ in range(MAX_PARTS):
        if scanned:
            m = _SCAN_MARKER.search(data, pos)
            if m is None:
                break
            pos = m.start()
        if pos + 2 > n:
            break
        if data[pos] != 0xFF:
            return Layout(width, height, pos, broken=True)
        fill = _FILL.match(data, pos, n - 1).end() - 1  # fill bytes: a run of FF before the marker code
        if fill - pos > MAX_FILL:  # Pillow reads them one by one in Python: 15 MB of FF cost it ~5 s of CPU
            return Layout(width, height, pos, broken=True)
        pos = segment = fill
        marker = data[pos + 1]
        pos += 2
        if marker == 0xD9:
            return Layout(width, height, pos, metadata=tuple(meta), exif=exif, drop=tuple(drop))
        if scanned and marker not in _AFTER_SCAN:
            return Layout(width, height, pos, broken=True)
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or 0x02 <= marker <= 0xBF:
            return Layout(width, height, pos, broken=True)
        if pos + 2 > n:
            break
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > n:
            break
        body = data[pos + 2:pos + length]
        if marker in _SOF:
            if len(body) < 6:
                return Layout(width, height, pos, broken=True)
            height, width = struct.unpack_from(">HH", body, 1)
        elif marker == 0xDA:
            scanned = True
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:
            meta.append(body)
            if marker == 0xE1 and exif is None and body.startswith(b"Exif\x00\x00"):
                exif = body
            if marker not in (0xE0, 0xEE):  # JFIF and Adobe say how to read the colours: they stay
                drop.append((segment, pos + length))
        pos += length
    return Layout(width, height, None, metadata=tuple(meta), exif=exif)  # ran out of bytes: truncated


MAX_TEXT = PngImagePlugin.MAX_TEXT_CHUNK  # 1 MiB: Pillow's own cap on one decompressed text chunk
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


def png_layout(data: bytes) -> Layout:
    """Walk PNG chunks from IHDR to IEND. Every ancillary chunk is metadata to scan, text decompressed. A text
    chunk over Pillow's MAX_TEXT_CHUNK (1 MiB) is hidden content: Pillow reads a tEXt chunk whole however large,
    raises ValueError on a compressed one that inflates beyond it, and a photo's text is a few hundred bytes."""
    n, pos, width, height, meta, exif, hidden = len(data), 8, 0, 0, [], None, False
    first = True
    for _ in range(16 * MAX_PARTS):  # encoders write IDAT in 8–64 KB chunks: 15 MB is a few thousand
        if pos + 12 > n:
            break
        length, kind = struct.unpack_from(">I4s", data, pos)
        body_at = pos + 8
        if length > 0x7FFFFFFF or not kind.isalpha() or (first and (kind != b"IHDR" or length != 13)):
            return Layout(width, height, pos, broken=True)
        first = False
        if body_at + length + 4 > n:
            break
        body = data[body_at:body_at + length]
        if kind == b"IHDR":
            width, height = struct.unpack_from(">II", body)
        elif kind == b"IEND":
            return Layout(width, height, body_at + length + 4, metadata=tuple(meta), exif=exif, hidden=hidden)
        elif kind in _TEXT_CHUNKS:
            text = _png_text(kind, body)
            hidden = hidden or text is None
            meta.append(text or b"")
        elif kind not in (b"IDAT", b"fdAT", b"PLTE", b"tRNS"):
            meta.append(body)
            if kind == b"eXIf":
                exif = body
        pos = body_at + length + 4
    return Layout(width, height, None, metadata=tuple(meta), exif=exif, hidden=hidden)


def _png_text(kind: bytes, body: bytes) -> bytes | None:
    """The text of a tEXt/zTXt/iTXt chunk, inflated if compressed; None when over MAX_TEXT."""
    if len(body) > MAX_TEXT:
        return None
    keyword, _, rest = body.partition(b"\x00")
    if kind == b"zTXt":
        compressed = rest[1:]
    elif kind == b"iTXt" and rest[:1] == b"\x01":
        compressed = rest[2:].split(b"\x00", 2)[-1]
    else:
        return body
    inflate = zlib.decompressobj()
    try:
        text = inflate.decompress(compressed, MAX_TEXT)
    except zlib.error:
        return body  # Pillow skips a chunk that does not inflate; the raw bytes are still scanned
    if inflate.unconsumed_tail:
        return None
    return keyword + b"\x00" + text


def webp_layout(data: bytes) -> Layout:
    """The RIFF size says where a WebP ends; chunks give the canvas (VP8X) or frame (VP8, VP8L) size and the
    EXIF/XMP to scan."""
    riff = int.from_bytes(data[4:8], "little")
    end = 8 + riff + (riff & 1)
    truncated = riff < 4 or 8 + riff > len(data)
    end = min(end, len(data))
    pos, width, height, meta, exif = 12, 0, 0, [], None
    for _ in range(MAX_PARTS):
        if pos + 8 > end:
            break
        kind, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        body = data[pos + 8:pos + 8 + size]
        if pos + 8 + size > end:
            return Layout(width, height, None if truncated else end, broken=True)
        if kind == b"VP8X" and size >= 10:
            width = max(width, 1 + int.from_bytes(body[4:7], "little"))
            height = max(height, 1 + int.from_bytes(body[7:10], "little"))
        elif kind == b"VP8 " and size >= 10 and body[3:6] == b"\x9d\x01\x2a":
            w, h = struct.unpack_from("<HH", body, 6)
            width, height = max(width, w & 0x3FFF), max(height, h & 0x3FFF)
        elif kind == b"VP8L" and size >= 5 and body[0] == 0x2F:
            bits = int.from_bytes(body[1:5], "little")
            width, height = max(width, (bits & 0x3FFF) + 1), max(height, ((bits >> 14) & 0x3FFF) + 1)
        elif kind not in (b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP"):
            meta.append(body)
            if kind == b"EXIF":
                exif = body
        pos += 8 + size + (size & 1)
    return Layout(width, height, None if truncated else end, metadata=tuple(meta), exif=exif)


_BOX_TYPE = re.compile(rb"[ -~]{4}")  # four printable ASCII characters
_CONTAINERS = {b"meta": 4, b"iprp": 0, b"ipco": 0}  # boxes whose children we read (meta is a FullBox: +4)


MAX_PARTS = 4096  # boxes, chunks, segments walked in one structure: real photos have tens, a crafted file millions


def _boxes(data: bytes, pos: int, end: int):
    """(type, body start, box end) of consecutive ISO-BMFF boxes from pos; stops at the first that is not one, or
    after MAX_PARTS of them (a file of a million 8-byte boxes would otherwise cost seconds of Python)."""
    for _ in range(MAX_PARTS):
        if pos + 8 > end:
            return
        size, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        header = 8
        if size == 1 and pos + 16 <= end:
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if not _BOX_TYPE.fullmatch(kind) or size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def heif_layout(data: bytes) -> Layout:
    """Top-level boxes up to the first thing that is not a box; the image size from the `ispe` properties (the
    largest, so a grid's full size counts). A box that claims more bytes than the upload has is a truncation."""
    width = height = 0
    end = 0

    def properties(pos: int, stop: int, depth: int) -> None:
        nonlocal width, height
        for kind, body, box_end in _boxes(data, pos, stop):
            if kind == b"ispe" and box_end - body >= 12:
                w, h = struct.unpack_from(">II", data, body + 4)
                if w * h > width * height:
                    width, height = w, h
            elif kind in _CONTAINERS and depth < 3:  # meta > iprp > ipco: deeper nesting is not HEIF's
                properties(body + _CONTAINERS[kind], box_end, depth + 1)

    for kind, body, box_end in _boxes(data, 0, len(data)):
        if kind == b"meta":
            properties(body + 4, box_end, 1)
        end = box_end
    if end < len(data) and end + 8 <= len(data):
        size, kind = int.from_bytes(data[end:end + 4], "big"), data[end + 4:end + 8]
        if _BOX_TYPE.fullmatch(kind) and size > len(data) - end:
            return Layout(width, height, None)  # a real box, cut short
    if not width:
        return Layout(width, height, end, broken=True)  # no image description: not a HEIF image
    return Layout(width, height, end)


LAYOUTS = {"JPEG": jpeg_layout, "PNG": png_layout, "WEBP": webp_layout, "HEIF": heif_layout}


# ------------------------------------------------------------------------------------------------------------------
# Hidden content: markup in metadata, archives and scripts after the image

def _utf16(word: bytes) -> bytes:
    return b"".join(re.escape(bytes([c])) + b"\x00" for c in word)


# Markup and script. Each alternative is long or constrained enough (7+ fixed bytes) not to turn up by chance in
# megabytes of video or in an EXIF thumbnail: a bare "<svg" (4 bytes) would, in a few motion photos per thousand,
# so an <svg counts with an attribute that makes it live (on…=, xmlns), or where a new file starts (_START).
# Searched in two steps, on lower-cased bytes: a case-sensitive regex finds candidates (a 15 MB trailer in ~40 ms;
# the same search with re.IGNORECASE takes ~400 ms), the strict patterns confirm them.
_MARKUP = re.compile(
    rb"<script[\s>/]|<\?php\s|javascript\s*:|<html[\s>]|<iframe[\s>/]|\bon(?:error|load)\s*="
    rb"|<svg[\s/>][^\x00<]{0,200}?(?:\bon[a-z]+\s*=|xmlns)")
_MARKUP16 = re.compile(b"|".join(_utf16(w) for w in (b"<script", b"<?php", b"javascript:", b"<html", b"<svg",
                                                     b"onerror=")))  # UTF-16LE, as in EXIF's XP* tags
_CANDIDATES = re.compile(rb"<(?:script|\?php|html|iframe|svg)|javascript|on(?:error|load)"
                         rb"|<\x00[s?h]\x00|j\x00a\x00v\x00|o\x00n\x00e\x00")


MAX_CANDIDATES = 1000  # random bytes give one in ~500 MB; a blob made of markup-like words is not a photo's


def _has_markup(blob: bytes) -> bool:
    low = blob.lower()
    for count, m in enumerate(_CANDIDATES.finditer(low)):
        if count >= MAX_CANDIDATES or _MARKUP.match(low, m.start()) or _MARKUP16.match(low, m.start()):
            return True
    return False


# Signatures specific enough (5+ constrained bytes) to look for anywhere without tripping on video or thumbnails.
_ARCHIVE = re.compile(
    rb"PK\x03\x04[\x0a-\x3f]\x00"       # ZIP local file header (version needed 1.0–6.3)
    rb"|PK\x01\x02[\x00-\x3f].[\x0a-\x3f]\x00"  # ZIP central directory
    rb"|PK\x05\x06\x00\x00\x00\x00"     # ZIP end of central directory (disk 0)
    rb"|Rar!\x1a\x07"                   # RAR
    rb"|7z\xbc\xaf\x27\x1c"             # 7-Zip
    rb"|%PDF-\d"                        # PDF
    rb"|\x7fELF[\x01\x02][\x01\x02]\x01"  # ELF
    rb"|This program cannot be run in DOS mode", re.DOTALL)
# Weaker magic, believed only where a new file would begin (right after the image or after a trailer part).
_START = re.compile(
    rb"MZ|\x1f\x8b\x08|BZh[1-9]|\xfd7zXZ\x00|#!|PK[\x01-\x08]|<[!?a-zA-Z]|\xef\xbb\xbf<|\xfe\xff\x00<")
_PADDING = re.compile(rb"[\x00\t\n\r \xff]*")


def _hostile_metadata(blob: bytes) -> bool:
    return _has_markup(blob) or bool(_ARCHIVE.search(blob))


def _hostile_trailer(data: bytes, end: int | None) -> bool:
    """What follows the image. Phones append harmless parts: a motion photo's MP4 (ISO-BMFF boxes), MPF's second
    JPEG (a gain map, a preview), Samsung's SEF blocks, padding. Walk the parts we know; where something else
    begins, weak magic (MZ, gzip, a `<`) is enough to refuse; anywhere in the trailer, strong signatures are."""
    if end is None or end >= len(data):
        return False
    pos, n = end, len(data)
    for _ in range(32):  # parts: a motion photo has two or three
        if pos >= n:
            break
        if data.startswith(b"\xff\xd8\xff", pos):
            part = jpeg_layout(data, pos)
            if part.broken:
                break
            pos = part.end
            continue
        box_end = pos
        for _kind, _body, box_end in _boxes(data, pos, n):
            pass
        if box_end == pos:  # not a box (an MP4 starts with 00 00 00 xx: boxes before padding)
            box_end = _PADDING.match(data, pos).end()
            if box_end > pos and data[box_end - 1] == 0xFF and data.startswith(b"\xd8\xff", box_end):
                box_end -= 1  # the padding ends where a JPEG's SOI begins
        if box_end > pos:
            pos = box_end
            continue
        if _START.match(data, pos):
            return True
        break
    return _hostile_metadata(data[end:])


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
    return _measures(_small_copy(image if image.mode == "L" else image.convert("L")))


def legibility(image: Image.Image) -> str | None:
    """"photo.too_dark", "photo.overexposed" or "photo.blurry" when a paper in this photo cannot be read; None."""
    return _judge(_small_copy(image if image.mode == "L" else image.convert("L")))


def _judge(gray: Image.Image) -> str | None:
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
