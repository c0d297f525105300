"""When the vendor's medical service specialist contacts the customer after an application.

000 （一）1.2 line 18 and （二）1.2 line 124: "客户申请服务后约2小时即可收到我司指定医疗服务专员的联络信息，并在医疗服务专员的
指导下，通过微信上传照片等形式提交就医资料进行服务审核" — about 2 hours after applying, the customer receives the contact
details of the specialist who guides them through sending their papers. The catalog's `specialist_contact_hours` says
which services promise it. The hours count from when the desk receives the application (deadlines.desk_receives): the
seed's applications are phone calls inside the acceptance hours (（一）2.3 line 38), and an online application sent at
night reaches a person when the desk opens. "约" is kept in the words shown: the time is an estimate, not a deadline.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..clock import require_aware
from ..deadlines import desk_receives
from .catalog import Product, Service


def specialist_contact_by(product: Product, service: Service, applied_at: datetime) -> datetime | None:
    """About when (China time) the specialist contacts someone who applied at `applied_at`; None where not promised."""
    require_aware(applied_at, "applied_at")
    if service.specialist_contact_hours is None:
        return None
    return desk_receives(product.hours_for(service), applied_at) + timedelta(hours=service.specialist_contact_hours)
