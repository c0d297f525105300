"""webapp.services.papers.photos.process: every hostile file refused with its exact reason, every real phone photo (JPEG,
PNG, WebP, HEIF; any orientation; motion photos, MPF) accepted, upright, re-encoded without a byte of metadata
(proven with exiftool), and the legibility thresholds on both sides of their line."""
from __future__ import annotations

import ast
import io
import json
import os
import random
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageFile

from tests.photo_corpus import (CORPUS, HOSTILE_NAMES, MARK_RED, MAX_BYTES, Case, base_heif, base_jpeg, base_png,
                                base_webp, case_bytes, document_photo, fake_mp4, jpeg_with_segment, samsung_trailer)
from webapp.services.papers import photos
from webapp.services.papers.photos import LIMITS, REASONS, Limits, Photo, PhotoRefused, legibility, measure, process, sniff


def refusal(data: bytes, **kw) -> PhotoRefused:
    with pytest.raises(PhotoRefused) as caught:
        process(data, **kw)
    return caught.value


def decoded(jpeg: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(jpeg))
    assert im.format == "JPEG"
    im.load()
    return im


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# ------------------------------------------------------------------------------------------------------------------
# The API others code against

def test_limits_and_reasons_are_the_agreed_ones():
    assert LIMITS == Limits(15 * 1024 * 1024, 40_000_000, 600, 800, 2048, 320)
    assert MAX_BYTES == LIMITS.max_bytes
    assert REASONS == {"photo.empty", "photo.too_large", "photo.format", "photo.too_many_pixels", "photo.frames",
                       "photo.corrupt", "photo.colour", "photo.too_small", "photo.blurry", "photo.too_dark",
                       "photo.overexposed", "photo.embedded"}
    e = PhotoRefused("photo.too_large", max_mb=15)
    assert isinstance(e, ValueError) and e.reason == "photo.too_large" and e.params == {"max_mb": 15}
    assert PhotoRefused("photo.corrupt").params == {}


def test_the_module_does_not_import_flask():
    tree = ast.parse(Path(photos.__file__).read_text())
    names = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(n.split(".")[0] in ("flask", "werkzeug") for n in names)


def test_pillow_bomb_limit_is_tied_to_the_cap():
    assert Image.MAX_IMAGE_PIXELS == LIMITS.max_pixels


def test_sniff_reads_the_bytes_only():
    assert sniff(base_jpeg()) == "JPEG"
    assert sniff(base_png()) == "PNG"
    assert sniff(base_webp()) == "WEBP"
    assert sniff(base_heif()) == "HEIF"
    assert sniff(b"") is None and sniff(b"\xff\xd8") is None
    assert sniff(b"GIF89a" + bytes(100)) is None
    assert sniff(struct.pack(">I4s4sI", 24, b"ftyp", b"avif", 0) + b"mif1miaf" + bytes(64)) is None
    assert sniff(struct.pack(">I4s4sI", 24, b"ftyp", b"mif1", 0) + b"mif1heic" + bytes(64)) == "HEIF"
    assert sniff(struct.pack(">I4s4sI", 24, b"ftyp", b"mif1", 0) + b"mif1avif" + bytes(64)) is None
    assert sniff(struct.pack(">I4s4sI", 9999, b"ftyp", b"heic", 0) + bytes(64)) is None  # ftyp larger than the file


# ------------------------------------------------------------------------------------------------------------------
# The hostile corpus

def test_the_corpus_is_large_and_covers_every_reason():
    assert len(CORPUS) >= 28
    assert len({c.name for c in CORPUS}) == len(CORPUS)
    assert {c.reason for c in CORPUS} == REASONS
    assert len(HOSTILE_NAMES) >= 8
    for required in ("../../etc/passwd.jpg", "\u202egpj.exe", "<script>alert(1)</script>.jpg", "CON.jpg",
                     "病历 第1页.jpg", ".htaccess"):
        assert required in HOSTILE_NAMES
    assert any("\x00" in n for n in HOSTILE_NAMES) and any("\r\n" in n for n in HOSTILE_NAMES)
    assert any(len(n) == 300 for n in HOSTILE_NAMES)


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_every_corpus_case_is_refused_with_its_reason(case: Case):
    e = refusal(case_bytes(case))
    assert e.reason == case.reason, f"{case.name}: {e.reason} {e.params}"
    expected_params = {"photo.too_large": {"max_mb": 15}, "photo.too_many_pixels": {"max_mp": 40},
                       "photo.too_small": {"min_side": 600}}
    assert e.params == expected_params.get(case.reason, {})


def test_exactly_max_bytes_is_not_too_large():
    body = b"\xff\xd8\xff" + bytes(LIMITS.max_bytes - 3)
    assert refusal(body).reason == "photo.corrupt"  # read, found to be no JPEG: not refused for its size
    assert refusal(body + b"\x00").reason == "photo.too_large"


def test_pillow_own_limits_cap_a_laxer_limits():
    """A Limits above Pillow's MAX_IMAGE_PIXELS is capped to it: a larger image would only make Pillow warn."""
    big = next(c for c in CORPUS if c.name == "jpeg_just_over_cap")
    assert refusal(case_bytes(big), limits=Limits(max_pixels=10**9)).reason == "photo.too_many_pixels"
    e = refusal(document_photo(1200, 900), limits=Limits(max_pixels=1_000_000))
    assert (e.reason, e.params) == ("photo.too_many_pixels", {"max_mp": 1})


def _lossless_webp(width: int, height: int, mode: str = "RGBA") -> bytes:
    from tests.photo_corpus import _page_scene, _save

    return _save(_page_scene(width, height).convert(mode), "WEBP", lossless=True, quality=0)


def _with_vp8l_size(webp: bytes, width: int, height: int) -> bytes:
    """The same lossless WebP with a VP8L header claiming another size (its pixels stay the small ones)."""
    data = bytearray(webp)
    at = data.index(b"VP8L") + 8
    bits = int.from_bytes(data[at + 1:at + 5], "little")
    bits = (bits & ~((1 << 28) - 1)) | (width - 1) | ((height - 1) << 14)
    data[at + 1:at + 5] = bits.to_bytes(4, "little")
    return bytes(data)


def test_a_small_lossless_webp_that_would_decode_to_too_many_bytes_is_refused_before_decoding(monkeypatch):
    """Issue 17 item 6: a 481 KB lossless WebP at the 40 MP cap cost a worker ~580 MB. The decoded size
    (width × height × bands × bytes per band) is capped, not the pixels alone, and checked before decoding."""
    webp = _lossless_webp(1000, 750)
    assert process(webp).source_format == "WEBP"  # 3 MB decoded: a normal page
    decodes = []
    from PIL import WebPImagePlugin

    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "load", lambda im: decodes.append(im), raising=True)
    e = refusal(webp, limits=Limits(max_decoded_bytes=2_900_000))
    assert (e.reason, e.params) == ("photo.too_many_pixels", {"max_mp": 0}) and decodes == []
    monkeypatch.undo()
    # The assessment's file: 8000×5000 (exactly the pixel cap) is 160 MB decoded: over the default cap.
    e = refusal(_with_vp8l_size(webp, 8000, 5000))
    assert (e.reason, e.params) == ("photo.too_many_pixels", {"max_mp": 25})
    assert LIMITS.max_decoded_bytes < 8000 * 5000 * 4 and 4032 * 3024 * 4 < LIMITS.max_decoded_bytes  # a 12 MP photo passes


def test_truncation_is_found_even_when_pillow_is_told_to_load_truncated_images(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    for name in ("jpeg_truncated", "png_truncated", "jpeg_truncated_with_eoi"):
        assert refusal(case_bytes(next(c for c in CORPUS if c.name == name))).reason == "photo.corrupt"


def _mutations(data: bytes, seed: int, count: int):
    """Truncations, flipped header bytes, overwritten runs, inserted junk: what a fuzzer would try first."""
    rnd = random.Random(seed)
    for i in range(count):
        d = bytearray(data)
        if i % 4 == 0:
            del d[rnd.randrange(1, len(d)):]
        elif i % 4 == 1:
            for _ in range(rnd.randint(1, 8)):
                d[rnd.randrange(min(len(d), 2048))] = rnd.randrange(256)
        elif i % 4 == 2:
            at = rnd.randrange(len(d))
            d[at:at + 64] = rnd.randbytes(64)
        else:
            at = rnd.randrange(len(d))
            d[at:at] = rnd.randbytes(rnd.randint(1, 300))
        yield bytes(d)


@pytest.mark.parametrize("make", [base_jpeg, base_png, base_webp, base_heif], ids=["jpeg", "png", "webp", "heif"])
def test_mangled_photos_only_ever_raise_photo_refused(make):
    """Pillow, libjpeg, libpng, libwebp and libheif on hostile bytes: a Photo or a PhotoRefused, nothing else (with
    warnings as errors, as pytest runs here)."""
    outcomes = set()
    for data in _mutations(make(), seed=len(make()), count=40):
        try:
            process(data)
            outcomes.add("accepted")
        except PhotoRefused as e:
            outcomes.add(e.reason)
    assert outcomes - {"accepted"} <= REASONS
    assert "photo.corrupt" in outcomes


def _nested_meta(levels: int) -> bytes:
    box = b""
    for _ in range(levels):
        box = struct.pack(">I4s", 12 + len(box), b"meta") + bytes(4) + box
    return struct.pack(">I4s4sI", 24, b"ftyp", b"heic", 0) + b"mif1heic" + box


PATHOLOGICAL = {  # ~14 MB each: what costs seconds of Python if walked naively (Pillow reads JPEG fill bytes so)
    "jpeg_fill_bytes": (lambda: base_jpeg()[:2] + b"\xff" * (14 << 20) + base_jpeg()[2:], "photo.corrupt"),
    "jpeg_many_segments": (lambda: base_jpeg()[:2] + b"\xff\xe5\x00\x02" * (14 << 18) + base_jpeg()[2:],
                           "photo.corrupt"),
    "png_many_chunks": (lambda: base_png()[:33] + struct.pack(">I4sI", 0, b"tEXt", 0) * ((14 << 20) // 12)
                        + base_png()[33:], "photo.corrupt"),
    "heif_nested_boxes": (lambda: _nested_meta(5000), "photo.corrupt"),
    "trailer_of_empty_jpegs": (lambda: base_jpeg() + b"\xff\xd8\xff\xd9" * (14 << 18), None),
    "trailer_of_tiny_boxes": (lambda: base_jpeg() + struct.pack(">I4s", 8, b"free") * (14 << 17), None),
    "trailer_of_markup_words": (lambda: base_jpeg() + b"\x00" + b"<svg " * ((14 << 20) // 5), "photo.embedded"),
    "trailer_of_random_bytes": (lambda: base_jpeg() + random.Random(9).randbytes(14 << 20), None),
}


@pytest.mark.serial
@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_structures_are_cheap(name):
    make, reason = PATHOLOGICAL[name]
    data = make()
    start = time.perf_counter()
    try:
        process(data)
        outcome = None
    except PhotoRefused as e:
        outcome = e.reason
    assert outcome == reason
    assert time.perf_counter() - start < 2.0  # ~0.1 s here; seconds before the walk was bounded


# ------------------------------------------------------------------------------------------------------------------
# Real photos

@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_each_allowed_format_is_accepted_and_becomes_an_rgb_jpeg(fmt):
    photo = process(document_photo(1200, 900, fmt=fmt, text_seed=31, quality=80))
    assert isinstance(photo, Photo) and photo.source_format == fmt
    im = decoded(photo.image)
    assert im.mode == "RGB" and im.size == (photo.width, photo.height) == (1200, 900)
    thumb = decoded(photo.thumbnail)
    assert thumb.mode == "RGB" and max(thumb.size) == LIMITS.thumb_side and thumb.size == (320, 240)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L", "1"])
def test_other_phone_modes_are_accepted_and_flattened_onto_white(mode):
    photo = process(document_photo(1200, 900, fmt="PNG", mode=mode, text_seed=32))
    im = decoded(photo.image)
    assert im.mode == "RGB" and im.size == (1200, 900)
    if mode in ("RGBA", "LA"):  # the border is transparent in the source: white paper, not black
        assert min(im.getpixel((2, 2))) > 240


def _mark_centre(width: int, height: int) -> tuple[int, int]:
    """Where tests/photo_corpus.page_image draws its red mark on an upright width×height scene."""
    size = max(6, int(min(width, height) * 0.05))
    return int(width * 0.04) + size // 2, int(height * 0.04) + size // 2


def _is_red(pixel) -> bool:
    r, g, b = pixel
    return r > 140 and g < 90 and b < 90 and abs(r - MARK_RED[0]) < 60


@pytest.mark.parametrize("fmt,orientation", [("JPEG", o) for o in range(1, 9)]
                         + [("PNG", 6), ("WEBP", 8), ("HEIF", 6), ("HEIF", 8)])
def test_orientation_is_applied_so_the_stored_photo_is_upright(fmt, orientation):
    data = document_photo(1200, 900, fmt=fmt, orientation=orientation, exif=True, text_seed=33, quality=85)
    # As stored, like a camera sensor; HEIF keeps the turn in its container (irot/imir), which libheif applies.
    assert opened(data).size == ((900, 1200) if fmt == "HEIF" and orientation >= 5 else (1200, 900))
    photo = process(data)
    upright = (900, 1200) if orientation >= 5 else (1200, 900)
    assert (photo.width, photo.height) == upright
    im = decoded(photo.image)
    x, y = _mark_centre(*upright)
    assert _is_red(im.getpixel((x, y)))
    assert not _is_red(im.getpixel((upright[0] - 1 - x, y)))  # not mirrored
    assert not _is_red(im.getpixel((x, upright[1] - 1 - y)))  # not flipped
    thumb = decoded(photo.thumbnail)
    assert thumb.size[0] < thumb.size[1] if orientation >= 5 else thumb.size[0] > thumb.size[1]


def test_a_larger_photo_is_scaled_to_the_long_side_limit():
    photo = process(document_photo(6000, 4500, text_seed=34, quality=80))  # decoded at half size, then resized
    assert (photo.width, photo.height) == (2048, 1536)
    assert decoded(photo.image).size == (2048, 1536)


@pytest.mark.parametrize(("size", "stored"), [((4000, 3000), (2000, 1500)), ((4032, 3024), (2016, 1512)),
                                              ((2048, 1536), (2048, 1536)), ((2560, 1920), (2048, 1536)),
                                              ((1600, 1200), (1600, 1200))])
def test_a_phone_photo_is_decoded_straight_to_half_size_when_that_is_still_big_enough(size, stored):
    photo = process(document_photo(*size, text_seed=36, quality=85))
    assert (photo.width, photo.height) == stored


def test_same_photo_same_digest_different_photo_different_digest():
    data = document_photo(1200, 900, text_seed=35)
    first, again = process(data), process(data)
    assert first.sha256 == again.sha256 and first.image == again.image
    import hashlib
    assert first.sha256 == hashlib.sha256(first.image).hexdigest()
    assert process(document_photo(1200, 900, text_seed=36)).sha256 != first.sha256


@pytest.mark.parametrize("trailer", ["google_motion_photo", "samsung_motion_photo", "mpf_second_jpeg", "padding"])
def test_harmless_phone_trailers_are_accepted_and_dropped(trailer):
    extra = {"google_motion_photo": lambda: fake_mp4(64 * 1024),
             "samsung_motion_photo": lambda: samsung_trailer(fake_mp4(64 * 1024)),
             "mpf_second_jpeg": lambda: document_photo(320, 240, text_seed=37),
             "padding": lambda: bytes(4096)}[trailer]()
    photo = process(base_jpeg() + extra)
    assert photos.jpeg_layout(photo.image).end == len(photo.image)  # nothing after the EOI


def test_a_real_mpo_from_pillow_is_accepted():
    """Pillow opens a JPEG with an MPF index as "MPO" with n_frames == 2: that is not a second photo (process
    hands Pillow the JPEG without its APP2)."""
    first = opened(document_photo(1200, 900, text_seed=38))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[first.reduce(4)])
    assert Image.open(io.BytesIO(out.getvalue())).n_frames == 2
    assert process(out.getvalue()).source_format == "JPEG"


def test_a_malformed_exif_is_not_pillows_to_parse():
    """Pillow parses EXIF on open when there is no JFIF header (every iPhone JPEG), and warns on a malformed one: a
    refusal with warnings as errors (here), a printed warning in production. process() hands Pillow the JPEG
    without its EXIF, so the outcome is the same in both, and the orientation still comes from that EXIF."""
    upright = document_photo(900, 1200, text_seed=39)
    stored = opened(upright).transpose(Image.Transpose.ROTATE_90)  # what orientation 6 turns back
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=90)
    plain = out.getvalue()
    no_jfif = plain[:2] + plain[4 + int.from_bytes(plain[4:6], "big"):]
    entries = struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">HHII", 0x011A, 5, 1, 0x7FFFFFF0)
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 2) + entries + bytes(4)
    hostile = jpeg_with_segment(no_jfif, 0xE1, exif)
    with pytest.raises(Warning):  # Pillow itself, with warnings as errors
        Image.open(io.BytesIO(hostile))
    photo = process(hostile)
    assert (photo.width, photo.height) == (900, 1200)
    assert _is_red(decoded(photo.image).getpixel(_mark_centre(900, 1200)))


def test_nothing_but_a_jfif_header_survives():
    """Without exiftool: the stored JPEG's only segment before the image is JFIF's APP0, and it ends at its EOI."""
    data = document_photo(1200, 900, exif=True, orientation=6, comment=b"patient Zhang San", xmp=b"<x:xmpmeta/>",
                          icc_profile=_icc())
    for blob in (photos.process(data).image, photos.process(data).thumbnail):
        layout = photos.jpeg_layout(blob)
        assert layout.end == len(blob)
        assert [m[:5] for m in layout.metadata] == [b"JFIF\x00"]


def _icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# ------------------------------------------------------------------------------------------------------------------
# Legibility: both sides of every threshold

@pytest.mark.parametrize("kw", [dict(), dict(sparse=True), dict(clean=True), dict(clean=True, sparse=True),
                                dict(brightness=0.3), dict(brightness=2), dict(quality=40)],
                         ids=["sharp", "sparse", "screenshot", "sparse_screenshot", "dim", "bright", "q40"])
def test_legible_pages_are_accepted(kw):
    process(document_photo(2000, 1500, text_seed=40, **kw))


@pytest.mark.parametrize("size,blur,expected", [
    ((2000, 1500), 0, None), ((2000, 1500), 2, None), ((2000, 1500), 8, "photo.blurry"),
    ((2000, 1500), 12, "photo.blurry"),
    ((4000, 3000), 4, None), ((4000, 3000), 16, "photo.blurry"),
    ((1200, 900), 1.2, None), ((1200, 900), 4.8, "photo.blurry"),
    ((800, 600), 0.8, None), ((800, 600), 3.2, "photo.blurry"),
])
def test_blur_threshold(size, blur, expected):
    """σ 1 px at the 1000 px scale reads fine and passes; σ 4 px at that scale (8 px at 2000) is refused."""
    assert legibility(opened(document_photo(*size, blur=blur, text_seed=41))) == expected


def test_blur_threshold_has_margins():
    sharp = measure(opened(document_photo(2000, 1500, text_seed=42)))
    sparse = measure(opened(document_photo(2000, 1500, sparse=True, text_seed=42)))
    blurred = measure(opened(document_photo(2000, 1500, blur=8, text_seed=42)))
    assert sharp.focus > 3 * photos.FOCUS_MIN
    assert sparse.focus > 2 * photos.FOCUS_MIN
    assert blurred.focus < photos.FOCUS_MIN / 1.2


@pytest.mark.parametrize("brightness,expected", [(0.1, "photo.too_dark"), (0.15, "photo.too_dark"), (0.3, None),
                                                 (1.0, None), (2.0, None), (3.5, "photo.overexposed"),
                                                 (4.0, "photo.overexposed")])
def test_exposure_thresholds(brightness, expected):
    assert legibility(opened(document_photo(2000, 1500, brightness=brightness, text_seed=43))) == expected


def test_plain_frames_are_refused_for_the_right_reason():
    assert legibility(Image.new("RGB", (1000, 750), (0, 0, 0))) == "photo.too_dark"
    assert legibility(Image.new("RGB", (1000, 750), (255, 255, 255))) == "photo.overexposed"
    assert legibility(Image.new("RGB", (1000, 750), (128, 128, 128))) == "photo.blurry"


# ------------------------------------------------------------------------------------------------------------------
# Metadata removal, proven with exiftool

EXIFTOOL = shutil.which("exiftool")
FORBIDDEN_FAMILY0 = {"EXIF", "MakerNotes", "XMP", "ICC_Profile", "IPTC", "Photoshop", "Trailer", "MPF", "Samsung",
                     "QuickTime", "Google"}
FORBIDDEN_FAMILY1 = {"IFD0", "IFD1", "ExifIFD", "GPS", "InteropIFD", "ICC_Profile", "ICC-header", "IPTC",
                     "Photoshop", "Apple", "Samsung", "MPF0"}


def exiftool(path: Path, *family: str) -> dict:
    if EXIFTOOL is None:
        if os.environ.get("CI") == "true":
            pytest.fail("exiftool is required in CI (apt-get install libimage-exiftool-perl)")
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl); metadata removal unproven")
    done = subprocess.run([EXIFTOOL, "-j", "-a", *family, "-s", str(path)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)[0]


def _groups(tags: dict, depth: int) -> set[str]:
    return {k.split(":")[depth] for k in tags if k.count(":") > depth}


def _everything_jpeg() -> bytes:
    """A phone photo carrying every kind of metadata: EXIF with GPS and a maker note, XMP, an ICC profile, a
    comment, Photoshop/IPTC (APP13), and a Samsung motion-photo trailer."""
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>Zhang San'
           b'</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>')
    data = document_photo(1200, 900, orientation=6, exif=True, icc_profile=_icc(), xmp=xmp,
                          comment=b"patient Zhang San, ward 3", text_seed=44)

    def resource(code: int, body: bytes) -> bytes:
        return b"8BIM" + struct.pack(">HHI", code, 0, len(body)) + body + b"\x00" * (len(body) % 2)
    iptc = b"\x1c\x02\x78" + struct.pack(">H", 9) + b"Zhang San"
    irb = resource(0x0404, iptc) + resource(0x03ED, struct.pack(">IHHIHH", 72 << 16, 1, 1, 72 << 16, 1, 1))
    return jpeg_with_segment(data, 0xED, b"Photoshop 3.0\x00" + irb) + samsung_trailer(fake_mp4(8192))


def test_exiftool_finds_everything_in_the_upload_and_nothing_in_the_stored_photo(tmp_path):
    upload = tmp_path / "upload.jpg"
    upload.write_bytes(_everything_jpeg())
    photo = process(upload.read_bytes())
    stored, thumb = tmp_path / "stored.jpg", tmp_path / "thumb.jpg"
    stored.write_bytes(photo.image)
    thumb.write_bytes(photo.thumbnail)

    before = exiftool(upload, "-G1")
    assert {"IFD0", "ExifIFD", "GPS", "ICC_Profile", "ICC-header", "IPTC", "Photoshop", "Apple", "XMP-dc"} <= \
        _groups(before, 0)
    assert before["File:Comment"].startswith("patient")
    before0 = exiftool(upload, "-G0")
    assert {"EXIF", "MakerNotes", "XMP", "ICC_Profile", "IPTC", "Photoshop"} <= _groups(before0, 0)
    assert before0.get("MakerNotes:EmbeddedVideoType") == "MotionPhoto_Data"  # the Samsung trailer, as exiftool sees it

    for path in (stored, thumb):
        after = exiftool(path, "-G1")
        groups = _groups(after, 0)
        assert not groups & FORBIDDEN_FAMILY1, groups
        assert not any(g.startswith(("XMP", "ICC", "MPF")) for g in groups), groups
        assert not any(k.endswith((":Comment", ":Warning", ":Error")) for k in after), after
        assert not any(k.startswith(("GPS", "Composite:GPS")) for k in after), after
        after0 = exiftool(path, "-G0")
        assert _groups(after0, 0) <= {"ExifTool", "File", "JFIF", "Composite", "SourceFile"}, _groups(after0, 0)
        assert not _groups(after0, 0) & FORBIDDEN_FAMILY0
