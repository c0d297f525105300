"""The service desk's day in the demo world: insured people without demo sign-ins, whose applications fill the staff
queue. services/demo/demo.py builds them and their bookings; services/demo/demo_papers.py sends their papers. A module of its own
so that neither of those two imports the other back."""
from __future__ import annotations

from datetime import date

DESK = (
    # name, birth, seq, product, service, days ago applied, where it stands, details
    ("赵敏", date(1972, 8, 3), 611, "cigc_classic", "expert_outpatient", 12, "approved",
     {"city": "上海", "department": "肿瘤科"}),  # approved 12 days ago: past its 5 working days
    ("吴桂英", date(1958, 1, 21), 622, "cigc_classic", "expert_outpatient", 3, "failed",
     {"city": "杭州", "department": "心内科", "doctor": "王建国主任"}),
    ("孙浩", date(1981, 12, 9), 633, "zhongan_vip", "escort_outpatient", 6, "due_to_close", {"city": "上海"}),
    ("陈磊", date(1966, 4, 30), 644, "cigc_classic", "expert_outpatient", 9, "no_show", {"city": "北京"}),
    ("刘秀兰", date(1963, 10, 14), 655, "zhongan_vip", "expert_outpatient", 0, "under_review",
     {"city": "上海", "department": "肿瘤科"}),  # her papers arrive complete (demo_papers): ready for the reviewer
)
