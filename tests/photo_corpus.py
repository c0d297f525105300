"""Photos for the upload tests, all made by code at test time (no binary files in git).

`document_photo()` draws what a customer actually sends: a phone photo of a printed medical paper (off-white
page on a desk, uneven light, sensor noise, lines of Chinese text, a red hospital mark in the page's top-left
corner so orientation can be checked). `CORPUS` is the hostile side: malicious or malformed files, each with
the exact reason key `webapp.services.papers.photos.process()` must refuse it with. `HOSTILE_NAMES` are file names
for the web tests to pair with a valid photo.
"""
from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
# Common characters of Chinese medical papers (诊断证明书, 出院小结, 病理报告…) to draw text that looks right.
_HANZI = ("诊断证明书出院小结病理报告姓名性别年龄科室床号住院号门诊号入院日期出院日期临床诊断治疗经过医嘱"
          "建议休息复查肿瘤恶性良性手术化疗放疗检查结果影像超声血常规肝肾功能医师签名医院盖章患者家属"
          "左右上下叶组织切片细胞浸润淋巴结转移阳性阴性未见异常年月日第页共")

# EXIF tags used below (the names as exiftool prints them).
ORIENTATION, MAKE, MODEL, IMAGE_DESCRIPTION = 0x0112, 0x010F, 0x0110, 0x010E
EXIF_IFD, GPS_IFD, DATETIME_ORIGINAL, MAKER_NOTE = 0x8769, 0x8825, 0x9003, 0x927C
# What the viewer must do to show stored pixels upright, per EXIF orientation (as in ImageOps.exif_transpose).
_TO_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
               5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_90}
_INVERSE = {Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270, Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90}

MARK_RED = (200, 30, 40)
# Apple's maker note layout: header, version, byte order, then an IFD with offsets from the note's start.
APPLE_MAKER_NOTE = (b"Apple iOS\x00\x00\x01MM" + struct.pack(">H", 2)
                    + struct.pack(">HHII", 0x0001, 9, 1, 14) + struct.pack(">HHII", 0x0008, 9, 1, 0) + bytes(4))


# ------------------------------------------------------------------------------------------------------------------
# Valid photos

@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont | None:
    if CJK_FONT.exists():
        return ImageFont.truetype(str(CJK_FONT), size)
    return None


def page_image(width: int, height: int, *, text_seed: int = 0, sparse: bool = False, clean: bool = False
               ) -> Image.Image:
    """The upright scene, RGB: a page on a desk (or, `clean`, a screenshot-like white page, edge to edge).

    `sparse` keeps three short lines only, the hard case for a focus measure. The red mark sits in the page's
    top-left corner, at about (6 %, 6 %) of the frame: tests look for it there after orientation.
    """
    rnd = random.Random(text_seed)
    paper = (255, 255, 255) if clean else (238, 234, 224)
    desk = (255, 255, 255) if clean else (92, 74, 60)
    im = Image.new("RGB", (width, height), desk)
    draw = ImageDraw.Draw(im)
    margin_x, margin_y = (0, 0) if clean else (int(width * 0.025), int(height * 0.025))
    draw.rectangle((margin_x, margin_y, width - margin_x - 1, height - margin_y - 1), fill=paper)
    ink = (0, 0, 0) if clean else (34, 34, 40)
    unit = max(8, min(width, height) // 48)  # glyph size: ~31 px on a 1500 px high page
    # The red mark ("hospital logo"), then a title, then body lines and a table rule or two.
    mx, my, ms = int(width * 0.04), int(height * 0.04), max(6, int(min(width, height) * 0.05))
    draw.rectangle((mx, my, mx + ms, my + ms), fill=MARK_RED)
    font, small = _font(int(unit * 1.4)), _font(unit)
    left, right = int(width * 0.14), int(width * 0.9)
    y = int(height * 0.06)
    _text(draw, (left + int(width * 0.1), y), "".join(rnd.choice(_HANZI) for _ in range(8)), font, int(unit * 1.4), ink)
    y += int(unit * 3)
    lines = 3 if sparse else 10_000
    while y < height * 0.9 and lines:
        lines -= 1
        n = rnd.randint(6, max(7, (right - left) // unit - 1))
        if sparse:
            n = min(n, 12)
        _text(draw, (left, y), "".join(rnd.choice(_HANZI) for _ in range(n)), small, unit, ink)
        y += int(unit * 1.8)
        if not sparse and rnd.random() < 0.08:
            draw.line((left, y, right, y), fill=ink, width=max(1, unit // 12))
            y += unit
    return im


def _text(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, font, size: int, ink) -> None:
    """Chinese text with the Noto CJK font, or dark blocks of the same size without it."""
    if font is not None:
        draw.text(xy, text, font=font, fill=ink)
        return
    x, y = xy
    for i, _ in enumerate(text):
        draw.rectangle((x + i * size + size // 8, y + size // 8, x + (i + 1) * size - size // 8, y + size), fill=ink)


def _photographic(im: Image.Image, *, blur: float, brightness: float, seed: int, clean: bool) -> Image.Image:
    """What a phone camera does to the scene: defocus, uneven light (vignette), exposure, sensor noise."""
    if blur > 0:
        im = im.filter(ImageFilter.GaussianBlur(blur))
    if not clean:
        # radial_gradient is 0 in the centre and 255 in the corners: keep 100 % in the centre, ~78 % in corners
        vignette = Image.radial_gradient("L").resize(im.size, Image.Resampling.BILINEAR).point(lambda v: 255 - v * 56 // 255)
        im = ImageChops.multiply(im, Image.merge("RGB", (vignette, vignette, vignette)))
    if brightness < 1:  # under-exposed: everything scaled down
        im = im.point(lambda v: int(v * brightness))
    elif brightness > 1:  # over-exposed, washed out: every tone lifted towards white
        im = im.point(lambda v: int(255 - (255 - v) / brightness))
    if not clean:  # luma noise, sigma a few levels, as a phone's after its own denoising
        noise = _noise(im.size, 5 + seed % 3, seed)
        im = ImageChops.add(im, Image.merge("RGB", (noise, noise, noise)), 1.0, -128)
    return im


def _noise(size: tuple[int, int], sigma: float, seed: int) -> Image.Image:
    """Gaussian noise around 128, seeded (Image.effect_noise is not: the same photo twice would differ): uniform
    random bytes through the inverse normal CDF."""
    normal = NormalDist(128, sigma)
    lut = [max(0, min(255, round(normal.inv_cdf((u + 0.5) / 256)))) for u in range(256)]
    return Image.frombytes("L", size, random.Random(seed).randbytes(size[0] * size[1])).point(lut)


def phone_exif(orientation: int = 1, *, gps: bool = True) -> Image.Exif:
    """EXIF as a phone writes it: make, model, date, orientation and (`gps`) where the photo was taken."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[ORIENTATION] = "Apple", "iPhone 13", orientation
    exif.get_ifd(EXIF_IFD).update({DATETIME_ORIGINAL: "2025:03:14 09:26:53", 0xA434: "iPhone 13 back camera",
                                   MAKER_NOTE: APPLE_MAKER_NOTE})
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 13.0, 51.3), 3: "E", 4: (121.0, 28.0, 27.2),
                                      5: b"\x00", 6: 12.5})
    return exif


def document_photo(width: int = 2000, height: int = 1500, *, blur: float = 0.0, brightness: float = 1.0,
                   fmt: str = "JPEG", orientation: int = 1, exif: Image.Exif | bool | None = None,
                   text_seed: int = 0, quality: int = 90, mode: str = "RGB", sparse: bool = False,
                   clean: bool = False, **save_params) -> bytes:
    """Encoded bytes of a phone photo of a printed page, `width`×`height` as stored (like a camera sensor).

    With `orientation` 5–8 the scene is a portrait page (height×width) stored turned, plus the EXIF tag
    that turns it back, as phones do. `exif=True` adds a phone's EXIF with GPS; an `Image.Exif` is used as
    given (its orientation set). `brightness` < 1 under-exposes, > 1 washes tones out towards white;
    `blur` is a Gaussian radius in pixels of this size. `mode` converts before saving (RGBA gets a
    transparent border, P is palettised). Extra keyword arguments go to `Image.save` (icc_profile, xmp,
    comment…).
    """
    turned = orientation in (5, 6, 7, 8)
    w, h = (height, width) if turned else (width, height)
    scene = page_image(w, h, text_seed=text_seed, sparse=sparse, clean=clean)
    im = _photographic(scene, blur=blur, brightness=brightness, seed=text_seed, clean=clean)
    if orientation != 1:
        step = _TO_UPRIGHT[orientation]
        im = im.transpose(_INVERSE.get(step, step))  # the stored pixels: upright turned back by the inverse
    if exif is True:
        exif = phone_exif(orientation)
    elif exif is None and orientation != 1:
        exif = Image.Exif()
    if isinstance(exif, Image.Exif):
        exif[ORIENTATION] = orientation
    im = _to_mode(im, mode)
    params: dict = {}
    if exif is not None:
        params["exif"] = exif.tobytes() if isinstance(exif, Image.Exif) else exif
    if fmt in ("JPEG", "WEBP", "HEIF"):
        params["quality"] = quality
    if fmt == "PNG":
        params["compress_level"] = 1
    if fmt == "HEIF":
        _heif()
    params.update(save_params)
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def _to_mode(im: Image.Image, mode: str) -> Image.Image:
    if mode == "RGB":
        return im
    if mode in ("RGBA", "LA"):
        alpha = Image.new("L", im.size, 0)
        ImageDraw.Draw(alpha).rectangle((8, 8, im.width - 9, im.height - 9), fill=255)
        out = im.convert(mode[:-1]).convert(mode)
        out.putalpha(alpha)
        return out
    if mode == "P":
        return im.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    return im.convert(mode)


@functools.cache
def _heif() -> None:
    import pillow_heif
    pillow_heif.register_heif_opener()


def jpeg_with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """`jpeg` with one more segment (APPn or COM) right after SOI: how metadata is carried."""
    return jpeg[:2] + struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload + jpeg[2:]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_chunk(png: bytes, kind: bytes, payload: bytes) -> bytes:
    """`png` with one more chunk right after IHDR (8 bytes of signature + 25 of IHDR)."""
    return png[:33] + png_chunk(kind, payload) + png[33:]


def fake_mp4(size: int = 4096, seed: int = 1) -> bytes:
    """The tail of a motion photo: an ISO-BMFF `ftyp mp42` box, then an `mdat` of video-like bytes."""
    ftyp = struct.pack(">I4s4sI", 24, b"ftyp", b"mp42", 0) + b"isommp42"
    body = random.Random(seed).randbytes(size)
    return ftyp + struct.pack(">I4s", 8 + len(body), b"mdat") + body


def samsung_trailer(video: bytes) -> bytes:
    """What a Samsung phone appends after a motion photo's EOI: named blocks (a UTC time stamp, the MP4), then an
    SEFH directory (offsets counted back from it), its length and SEFT. exiftool reads it as MakerNotes:Samsung."""
    blocks = [(0x0A01, b"Image_UTC_Data", b"1741915613000"), (0x0A30, b"MotionPhoto_Data", video)]
    body, spans = b"", []
    for kind, name, data in blocks:
        start = len(body)
        body += struct.pack("<HHI", 0, kind, len(name)) + name + data
        spans.append((kind, start, len(body) - start))
    entries = b"".join(struct.pack("<HHII", 0, kind, len(body) - start, length) for kind, start, length in spans)
    directory = b"SEFH" + struct.pack("<II", 107, len(spans)) + entries
    return body + directory + struct.pack("<I", len(directory)) + b"SEFT"

# ------------------------------------------------------------------------------------------------------------------
# Hostile and malformed files

@dataclass(frozen=True)
class Case:
    name: str
    filename: str                       # what the client claims; never believed
    data: bytes | Callable[[], bytes]   # a zero-argument callable for the expensive ones
    reason: str                         # the exact PhotoRefused.reason process() must give


def case_bytes(case: Case) -> bytes:
    return case.data() if callable(case.data) else case.data


MAX_BYTES = 15 * 1024 * 1024  # photos.LIMITS.max_bytes (kept literal: this module must not import the app)


@functools.cache
def base_jpeg() -> bytes:
    """A valid, legible 1000×750 photo: the carrier most hostile cases are built on."""
    return document_photo(1000, 750, text_seed=11)


@functools.cache
def base_png() -> bytes:
    return document_photo(1000, 750, fmt="PNG", text_seed=12)


@functools.cache
def base_webp() -> bytes:
    return document_photo(1000, 750, fmt="WEBP", text_seed=13, quality=80)


@functools.cache
def base_heif() -> bytes:
    return document_photo(800, 600, fmt="HEIF", text_seed=14, quality=60)


def _page_scene(width: int = 1000, height: int = 750) -> Image.Image:
    return _photographic(page_image(width, height, text_seed=15), blur=0, brightness=1, seed=15, clean=False)


def _save(im: Image.Image, fmt: str, **params) -> bytes:
    if fmt == "HEIF":
        _heif()
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def jpeg_sof(jpeg: bytes) -> int:
    """Offset of the SOF0 (baseline frame header) marker: Pillow writes baseline JPEGs."""
    return jpeg.index(b"\xff\xc0")


def jpeg_with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with a frame header claiming another size."""
    at = jpeg_sof(jpeg) + 5
    return jpeg[:at] + struct.pack(">HH", height, width) + jpeg[at + 4:]


def jpeg_scan_offset(jpeg: bytes) -> int:
    sos = jpeg.index(b"\xff\xda")
    return sos + 2 + int.from_bytes(jpeg[sos + 2:sos + 4], "big")


def _png_bomb() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def _webp_bomb() -> bytes:
    """A lossless WebP whose VP8L header is patched to 16384×16384 (268 MP, the format's maximum)."""
    data = bytearray(_save(_page_scene().reduce(2), "WEBP", lossless=True, quality=0))
    at = data.index(b"VP8L") + 8
    bits = int.from_bytes(data[at + 1:at + 5], "little")
    bits = (bits & ~((1 << 28) - 1)) | 0x3FFF | (0x3FFF << 14)
    data[at + 1:at + 5] = bits.to_bytes(4, "little")
    return bytes(data)


def _heif_bomb() -> bytes:
    data = bytearray(base_heif())
    at = data.index(b"ispe") + 8  # after the type and the FullBox version/flags
    data[at:at + 8] = struct.pack(">II", 50_000, 50_000)
    return bytes(data)


def _png_huge_text() -> bytes:
    return png_with_chunk(base_png(), b"tEXt", b"Comment\x00" + b"A" * (2 * 1024 * 1024))


def _png_ztxt_bomb() -> bytes:
    """8 KB of zTXt that inflates to 8 MiB, past Pillow's MAX_TEXT_CHUNK (1 MiB)."""
    return png_with_chunk(base_png(), b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * (8 * 1024 * 1024), 9))


def _gif_animated() -> bytes:
    first = _page_scene().convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    return _save(first, "GIF", save_all=True, append_images=[first.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])


def _webp_animated() -> bytes:
    first = _page_scene()
    return _save(first, "WEBP", save_all=True, append_images=[first.transpose(Image.Transpose.FLIP_LEFT_RIGHT)],
                 quality=50)


def _apng() -> bytes:
    first = _page_scene()
    return _save(first, "PNG", save_all=True, append_images=[first.transpose(Image.Transpose.FLIP_LEFT_RIGHT)],
                 compress_level=1)


def _heif_two_images() -> bytes:
    first = _page_scene(800, 600)
    return _save(first, "HEIF", save_all=True, append_images=[first.transpose(Image.Transpose.FLIP_LEFT_RIGHT)],
                 quality=50)


def _psd() -> bytes:
    """Photoshop's header: 8BPS, version 1, 3 channels, 750×1000, 8 bits, RGB; empty sections; raw data."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 750, 1000, 8, 3)
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + b"\x80" * (1000 * 750 * 3)


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("payload/readme.txt", "not a photo\n" * 100)
        z.writestr("payload/photo.jpg", base_jpeg())
    return out.getvalue()


def _exe() -> bytes:
    dos = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + struct.pack("<I", 0x80)
    stub = b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
    return (dos + stub).ljust(0x80, b"\x00") + b"PE\x00\x00" + b"\x00" * 256


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 62, 1) + b"\x00" * 40
PDF = (b"%PDF-1.7\n1 0 obj <</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>> endobj\n"
       b"3 0 obj <</S/JavaScript/JS(app.alert(1))>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/account').then(r => r.text())</script></body></html>\n"
SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="750" '
       b'onload="alert(document.cookie)"><rect width="1000" height="750" fill="white"/></svg>\n')
PHP = b"<?php system($_GET['c']); ?>\n"
EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1000 750\n%%EndComments\n"
       b"/Helvetica findfont 24 scalefont setfont 72 72 moveto (not a photo) show showpage\n%%EOF\n")


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    return struct.pack(">I4s4sI", 16 + 4 * len(compatible), b"ftyp", major, 0) + b"".join(compatible)


def _avif() -> bytes:
    return _save(_page_scene().reduce(4), "AVIF", quality=40)


def _jpeg2000() -> bytes:
    return _save(_page_scene().reduce(4), "JPEG2000")


def _truncated(data: bytes) -> bytes:
    return data[:len(data) // 2]


def _jpeg_corrupt_scan() -> bytes:
    data = bytearray(base_jpeg())
    start = jpeg_scan_offset(data) + (len(data) - jpeg_scan_offset(data)) // 3
    data[start:start + 4000] = random.Random(5).randbytes(4000)
    return bytes(data)


def _jpeg_marker_in_scan(marker: bytes) -> bytes:
    data = bytearray(base_jpeg())
    middle = (jpeg_scan_offset(data) + len(data)) // 2
    data[middle:middle + len(marker)] = marker
    return bytes(data)


def _cmyk_jpeg() -> bytes:
    return _save(_page_scene().convert("CMYK"), "JPEG", quality=90)


def _png_16bit_grey() -> bytes:
    grey = _page_scene().convert("L")
    return _save(grey.point(lambda v: v * 257, "I").convert("I;16"), "PNG", compress_level=1)


def _float_tiff() -> bytes:
    return _save(_page_scene().convert("F"), "TIFF")


def _jpeg_exif_script() -> bytes:
    return document_photo(1000, 750, text_seed=16, exif=_exif_exif(IMAGE_DESCRIPTION, "<script>alert(1)</script>"))


def _exif_exif(tag: int, value) -> Image.Exif:
    exif = phone_exif()
    exif[tag] = value
    return exif


def _jpeg_exif_utf16_script() -> bytes:
    """XPComment (0x9C9C) is UTF-16LE: what Windows' file properties show."""
    return document_photo(1000, 750, text_seed=17,
                          exif=_exif_exif(0x9C9C, "<script>alert(1)</script>".encode("utf-16-le") + b"\x00\x00"))


XMP_JS = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
          b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:BaseURL="javascript:alert(1)"/>'
          b'</rdf:RDF></x:xmpmeta>')


def _png_itxt_svg() -> bytes:
    svg = b'<svg/onload=alert(1)>'
    body = b"Description\x00\x01\x00\x00\x00" + zlib.compress(svg)
    return png_with_chunk(base_png(), b"iTXt", body)


def _webp_exif_script() -> bytes:
    return document_photo(1000, 750, fmt="WEBP", text_seed=18, quality=70,
                          exif=_exif_exif(IMAGE_DESCRIPTION, '<img src=x onerror="alert(1)">'))


def _heif_xmp_script() -> bytes:
    xmp = XMP_JS.replace(b"javascript:alert(1)", b"x").replace(b"</rdf:RDF>", b"<script>alert(1)</script></rdf:RDF>")
    return document_photo(800, 600, fmt="HEIF", text_seed=19, quality=50, xmp=xmp)


def _motion_then_zip() -> bytes:
    """A fake motion photo (JPEG + MP4) with a ZIP after the video: the junction after the boxes is checked."""
    return base_jpeg() + fake_mp4() + _zip()


CORPUS: list[Case] = [
    # size and emptiness, before anything is parsed
    Case("oversized", "IMG_0001.jpg", lambda: b"\xff\xd8\xff" + bytes(MAX_BYTES + 1 - 3), "photo.too_large"),
    Case("empty", "IMG_0002.jpg", b"", "photo.empty"),
    # pixel bombs: a few KB whose header claims gigapixels
    Case("png_pixel_bomb", "scan.png", _png_bomb, "photo.too_many_pixels"),
    Case("jpeg_pixel_bomb", "IMG_0003.jpg", lambda: jpeg_with_size(base_jpeg(), 50_000, 50_000),
         "photo.too_many_pixels"),
    Case("jpeg_just_over_cap", "IMG_0004.jpg", lambda: jpeg_with_size(base_jpeg(), 8000, 5001),
         "photo.too_many_pixels"),  # 40.008 MP: under Pillow's 2× error, where it only warns
    Case("webp_pixel_bomb", "IMG_0005.webp", _webp_bomb, "photo.too_many_pixels"),
    Case("heif_pixel_bomb", "IMG_0006.heic", _heif_bomb, "photo.too_many_pixels"),
    # text chunks Pillow reads whole (tEXt) or refuses to inflate (zTXt over MAX_TEXT_CHUNK)
    Case("png_huge_text", "scan.png", _png_huge_text, "photo.embedded"),
    Case("png_ztxt_bomb", "scan.png", _png_ztxt_bomb, "photo.embedded"),
    # more than one frame
    Case("gif_animated", "IMG_0007.jpg", _gif_animated, "photo.format"),
    Case("webp_animated", "IMG_0008.webp", _webp_animated, "photo.frames"),
    Case("apng", "IMG_0009.png", _apng, "photo.frames"),
    Case("heif_two_images", "IMG_0010.heic", _heif_two_images, "photo.frames"),
    # not an allowed format, whatever the name says
    Case("tiff", "IMG_0011.jpg", lambda: _save(_page_scene(), "TIFF"), "photo.format"),
    Case("tiff_float", "IMG_0012.jpg", _float_tiff, "photo.format"),
    Case("psd", "IMG_0013.jpg", _psd, "photo.format"),
    Case("eps", "IMG_0014.jpg", EPS, "photo.format"),
    Case("svg", "IMG_0015.jpg", SVG, "photo.format"),
    Case("html", "IMG_0016.jpg", HTML, "photo.format"),
    Case("php", "IMG_0017.jpg", PHP, "photo.format"),
    Case("pdf", "report.jpg", PDF, "photo.format"),
    Case("zip", "photos.jpg", _zip, "photo.format"),
    Case("elf", "IMG_0018.jpg", ELF, "photo.format"),
    Case("exe", "IMG_0019.jpg", _exe, "photo.format"),
    Case("bmp", "IMG_0020.jpg", lambda: _save(_page_scene(), "BMP"), "photo.format"),
    Case("gif", "IMG_0021.jpg", lambda: _save(_page_scene().convert("P"), "GIF"), "photo.format"),
    Case("avif", "IMG_0022.heic", _avif, "photo.format"),
    Case("avif_brand_in_mif1", "IMG_0023.heic", _ftyp(b"mif1", b"mif1", b"avif", b"miaf") + b"\x00" * 64,
         "photo.format"),
    Case("jpeg2000", "IMG_0024.jpg", _jpeg2000, "photo.format"),
    Case("mp4_video", "IMG_0025.heic", lambda: _ftyp(b"isom", b"isom", b"mp42") + fake_mp4()[24:], "photo.format"),
    Case("random_bytes", "IMG_0026.jpg", lambda: random.Random(3).randbytes(4096), "photo.format"),
    # truncated or undecodable: "please retake"
    Case("jpeg_truncated", "IMG_0027.jpg", lambda: _truncated(base_jpeg()), "photo.corrupt"),
    Case("jpeg_truncated_with_eoi", "IMG_0028.jpg", lambda: _truncated(base_jpeg()) + b"\xff\xd9", "photo.corrupt"),
    Case("jpeg_missing_eoi", "IMG_0029.jpg", lambda: base_jpeg()[:-2], "photo.corrupt"),
    Case("jpeg_corrupt_scan", "IMG_0030.jpg", _jpeg_corrupt_scan, "photo.corrupt"),
    Case("jpeg_sof_in_scan", "IMG_0031.jpg", lambda: _jpeg_marker_in_scan(b"\xff\xc0\x00\x11"), "photo.corrupt"),
    Case("jpeg_zero_size", "IMG_0032.jpg", lambda: jpeg_with_size(base_jpeg(), 0, 0), "photo.corrupt"),
    Case("jpeg_soi_only", "IMG_0033.jpg", b"\xff\xd8\xff\xe0", "photo.corrupt"),
    Case("png_truncated", "IMG_0034.png", lambda: _truncated(base_png()), "photo.corrupt"),
    Case("webp_truncated", "IMG_0035.webp", lambda: _truncated(base_webp()), "photo.corrupt"),
    Case("heif_truncated", "IMG_0036.heic", lambda: _truncated(base_heif()), "photo.corrupt"),
    Case("heif_fake", "IMG_0037.heic", _ftyp(b"heic", b"mif1", b"heic") + random.Random(4).randbytes(2048),
         "photo.corrupt"),
    # colour modes no phone produces
    Case("jpeg_cmyk", "IMG_0038.jpg", _cmyk_jpeg, "photo.colour"),
    Case("png_16bit_grey", "IMG_0039.png", _png_16bit_grey, "photo.colour"),
    # something that is not a photo after the image's end
    Case("jpeg_zip_polyglot", "IMG_0040.jpg", lambda: base_jpeg() + _zip(), "photo.embedded"),
    Case("jpeg_php_trailer", "IMG_0041.jpg", lambda: base_jpeg() + PHP, "photo.embedded"),
    Case("jpeg_html_trailer", "IMG_0042.jpg", lambda: base_jpeg() + b"\n" + HTML, "photo.embedded"),
    Case("jpeg_pdf_trailer", "IMG_0043.jpg", lambda: base_jpeg() + PDF, "photo.embedded"),
    Case("jpeg_exe_trailer", "IMG_0044.jpg", lambda: base_jpeg() + _exe(), "photo.embedded"),
    Case("jpeg_elf_trailer", "IMG_0045.jpg", lambda: base_jpeg() + ELF, "photo.embedded"),
    Case("jpeg_gzip_trailer", "IMG_0046.jpg", lambda: base_jpeg() + b"\x1f\x8b\x08\x00" + bytes(64), "photo.embedded"),
    Case("jpeg_motion_photo_then_zip", "IMG_0047.jpg", _motion_then_zip, "photo.embedded"),
    Case("png_zip_after_iend", "IMG_0048.png", lambda: base_png() + _zip(), "photo.embedded"),
    # markup or script inside metadata
    Case("jpeg_exif_script", "IMG_0049.jpg", _jpeg_exif_script, "photo.embedded"),
    Case("jpeg_exif_utf16_script", "IMG_0050.jpg", _jpeg_exif_utf16_script, "photo.embedded"),
    Case("jpeg_com_php", "IMG_0051.jpg", lambda: jpeg_with_segment(base_jpeg(), 0xFE, PHP), "photo.embedded"),
    Case("jpeg_xmp_javascript", "IMG_0052.jpg", lambda: document_photo(1000, 750, text_seed=20, xmp=XMP_JS),
         "photo.embedded"),
    Case("png_text_script", "IMG_0053.png",
         lambda: png_with_chunk(base_png(), b"tEXt", b"Comment\x00<script>alert(1)</script>"), "photo.embedded"),
    Case("png_itxt_svg", "IMG_0054.png", _png_itxt_svg, "photo.embedded"),
    Case("webp_exif_onerror", "IMG_0055.webp", _webp_exif_script, "photo.embedded"),
    Case("heif_xmp_script", "IMG_0056.heic", _heif_xmp_script, "photo.embedded"),
    # resolution and legibility
    Case("too_small", "IMG_0057.jpg", lambda: document_photo(300, 400, text_seed=21), "photo.too_small"),
    Case("one_pixel_strip", "IMG_0058.jpg", lambda: _save(Image.new("RGB", (4000, 1), "white"), "JPEG"),
         "photo.too_small"),
    Case("blurry", "IMG_0059.jpg", lambda: document_photo(1000, 750, blur=4, text_seed=22), "photo.blurry"),
    Case("too_dark", "IMG_0060.jpg", lambda: document_photo(1000, 750, brightness=0.15, text_seed=23),
         "photo.too_dark"),
    Case("overexposed", "IMG_0061.jpg", lambda: document_photo(1000, 750, brightness=4, text_seed=24),
         "photo.overexposed"),
    Case("blank_wall", "IMG_0062.jpg", lambda: _save(Image.new("RGB", (1000, 750), (150, 140, 130)), "JPEG"),
         "photo.blurry"),
]

# File names for the web tests to pair with a valid photo: the name is display-only and must come out harmless.
HOSTILE_NAMES: list[str] = [
    "../../etc/passwd.jpg",
    "..\\..\\Windows\\win.ini.jpg",
    "/var/www/static/shell.jpg",
    "photo.php\x00.jpg",
    "\u202egpj.exe",                             # right-to-left override: shows as "exe.jpg"
    "a" * 296 + ".jpg",                          # 300 characters
    "<script>alert(1)</script>.jpg",
    '"><img src=x onerror=alert(1)>.jpg',
    "photo.jpg\r\nContent-Type: text/html\r\n\r\n<h1>x</h1>",
    "CON.jpg",
    "病历 第1页.jpg",
    ".htaccess",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd.jpg",
    "",
    " ",
]
