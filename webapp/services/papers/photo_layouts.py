"""The structure of an uploaded photo, walked before Pillow sees it: the format from the magic bytes, the size
its header claims, where the image really ends, and whether anything hostile hides in it (SECURITY.md, Uploads).

JPEG markers, PNG chunks, RIFF (WebP) and ISO-BMFF boxes (HEIF) are walked with caps on every count, so a
crafted file cannot make the walk slow. What follows the image's real end is judged (an archive, script or
executable appended to a photo is refused; a phone's motion-photo video or second JPEG is not), and so is the
text in its metadata (markup or script in EXIF, XMP, comments or PNG text chunks). Used by photos.process.
"""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

from PIL import PngImagePlugin

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


def hostile_metadata(blob: bytes) -> bool:
    return _has_markup(blob) or bool(_ARCHIVE.search(blob))


def hostile_trailer(data: bytes, end: int | None) -> bool:
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
    return hostile_metadata(data[end:])
