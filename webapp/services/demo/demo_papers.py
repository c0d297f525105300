"""Papers for the demo world: photos of believable hospital papers, drawn with Pillow, put through the real
photo checks, storage and review, so the demo shows every state a paper can be in (issue 4).

- 张伟's second opinion (in review): the diagnosis accepted, medical records page 1 accepted and page 2 sent
  back ("part of the page is covered"), so the retake flow can be tried at once.
- 李小明's expert visit, applied for by his mother: every paper accepted, her ID and guardianship proof included.
- 王芳's expert visit (just applied): one page of her diagnosis added but not sent yet.
- 刘秀兰's expert visit (at the service desk): every paper sent, none decided, so a reviewer can start at once;
  the desk's other open applications were approved on accepted papers.
"""
from __future__ import annotations

import io
import random
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Account, Booking, Policy, Service
from ..papers import documents, photos
from ..papers.storage import Storage
from ..products.catalog_sync import rules_for
from .demo_desk import DESK

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

TITLES = {
    "diagnosis": ("复旦大学附属中山医院", "门诊诊断证明书"),
    "medical_records": ("复旦大学附属中山医院", "出院小结"),
    "pathology_report": ("复旦大学附属中山医院", "病理诊断报告"),
    "applicant_id": ("居民身份证", "（演示样张）"),
    "guardianship_proof": ("居民户口簿", "常住人口登记卡（演示样张）"),
}
LINES = ("姓名：{name}    性别：{sex}    科室：肿瘤内科", "主诉：反复咳嗽两月余，伴低热。", "诊断：疑似恶性肿瘤，建议进一步检查。",
         "处理意见：完善增强CT及病理检查，专科门诊随访。", "医师签名：王医生        日期：2026年11月", "本证明仅供办理绿通服务使用。")


def _font(size: int):
    if FONT.exists():
        return ImageFont.truetype(str(FONT), size)
    return ImageFont.load_default(size)


def paper_photo(kind: str, name: str, *, seed: int, page: int = 1) -> bytes:
    """A 1600×1200 JPEG of a printed page lying on a desk, slightly turned, in ordinary room light."""
    rng = random.Random(seed)
    paper = Image.new("RGB", (1300, 1000), (248, 246, 240))
    draw = ImageDraw.Draw(paper)
    top, sub = TITLES.get(kind, ("医疗资料", ""))
    draw.text((80, 60), top, font=_font(64), fill=(20, 20, 20))
    draw.text((80, 150), f"{sub}  第{page}页", font=_font(44), fill=(40, 40, 40))
    draw.line((80, 220, 1220, 220), fill=(60, 60, 60), width=4)
    for i, line in enumerate(LINES):
        draw.text((80, 260 + i * 110), line.format(name=name, sex=rng.choice("男女")), font=_font(40), fill=(25, 25, 30))
    colour = (120 + rng.randint(0, 20), 95, 70)
    desk = Image.new("RGB", (1600, 1200), colour)
    desk.paste(paper.rotate(rng.uniform(-3, 3), expand=True, fillcolor=colour, resample=Image.BICUBIC), (130, 80))
    desk = desk.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    desk.save(out, "JPEG", quality=88)
    return out.getvalue()


def attach(session: Session, storage: Storage, now: datetime) -> None:
    """Add the demo's papers (see the module docstring). Commits."""
    reviewer = session.scalar(select(Account).where(Account.staff_role == "reviewer"))

    def booking(policy_number: str, code: str) -> Booking | None:
        return session.scalar(select(Booking).join(Policy).join(Service, Booking.service_id == Service.id)
                              .where(Policy.number == policy_number, Service.code == code))

    def add(b: Booking, kind: str, page: int, at: datetime, seed: int):
        applicant = session.get(Account, b.applicant_account_id)
        data = paper_photo(kind, b.policy.insured.name, seed=seed, page=page)
        return documents.add_page(session, storage, booking_id=b.id, kind=kind, photo=photos.process(data),
                                  account=applicant, now=at, display_name=f"IMG_{2000 + seed}.jpg")

    second = booking("P003-DEMO-0002", "second_opinion")
    if second is not None:
        at = second.applied_at + timedelta(minutes=20)
        accepted = [add(second, "diagnosis", 1, at, 1), add(second, "medical_records", 1, at, 2)]
        covered = add(second, "medical_records", 2, at, 3)
        documents.submit(session, booking_id=second.id, account=session.get(Account, second.applicant_account_id), now=at)
        for page in accepted:
            documents.decide_page(session, public_id=page.public_id, staff=reviewer, now=at + timedelta(hours=2),
                                  decision=documents.ACCEPTED)
        documents.decide_page(session, public_id=covered.public_id, staff=reviewer, now=at + timedelta(hours=2),
                              decision=documents.REJECTED, reason="incomplete", note="右下角被手指挡住，请重拍。")
    child = booking("P003-DEMO-0005", "expert_outpatient")
    if child is not None:
        at = child.applied_at + timedelta(minutes=10)
        pages = [add(child, kind, 1, at, 10 + i) for i, kind in
                 enumerate(documents.required_kinds(rules_for(child.service)[1], child))]
        documents.submit(session, booking_id=child.id, account=session.get(Account, child.applicant_account_id), now=at)
        for page in pages:
            documents.decide_page(session, public_id=page.public_id, staff=reviewer, now=at + timedelta(hours=1),
                                  decision=documents.ACCEPTED)
    review = booking("PZHO-DESK-655", "expert_outpatient")  # 刘秀兰: every paper sent (two pages each), none decided
    if review is not None:
        at = review.applied_at + timedelta(minutes=30)
        for i, kind in enumerate(documents.required_kinds(rules_for(review.service)[1], review)):
            add(review, kind, 1, at, 30 + 2 * i)
            add(review, kind, 2, at, 31 + 2 * i)
        documents.submit(session, booking_id=review.id, account=session.get(Account, review.applicant_account_id), now=at)
    for name, _birth, seq, product, code, *_rest in DESK:  # the desk's others were approved on accepted papers
        done = booking(f"P{product[:3].upper()}-DESK-{seq}", code)
        if done is None or done.state not in ("approved", "scheduled"):
            continue
        at = done.applied_at + timedelta(minutes=15)
        pages = [add(done, kind, 1, at, 40 + seq % 50 + i)
                 for i, kind in enumerate(documents.required_kinds(rules_for(done.service)[1], done))]
        if not pages:
            continue
        documents.submit(session, booking_id=done.id, account=session.get(Account, done.applicant_account_id), now=at)
        for page in pages:
            documents.decide_page(session, public_id=page.public_id, staff=reviewer, now=at + timedelta(minutes=30),
                                  decision=documents.ACCEPTED)
    wang = booking("P001-DEMO-0006", "expert_outpatient")
    if wang is not None:
        add(wang, "diagnosis", 1, min(now, wang.applied_at + timedelta(minutes=5)), 20)

