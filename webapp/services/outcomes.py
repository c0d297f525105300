"""What an outcome spends: the catalog's `counts_as_used` is the one source of truth (issue 14, item 1).

A scheduled booking ends in one of four ways, and each spends units of its quota only where the seed says so:
- `completed`: the service was delivered. A count quota spends what was booked; a days quota (003 重疾住院护工:
  "累计住院护工服务天数以30日为限", seed 003 line 2301) spends the days actually served.
- `no_show`: spends only where the service lists `no_show` (001 注意事项10 line 63; 002 2(4)3) line 56; 003 特别说明(5)
  line 929: "客户接受服务后，因本人原因未能按时就医，则视同该次服务已完成"). A days quota spends the days served.
- `cancel`: before the service's change deadline it spends nothing; after it, only where the service lists
  `cancel_after_cutoff` (000 （一）2.9(6); 003 同城专车接送 特别说明(5) line 586); at any time where it lists
  `cancel_any_time` (003 住院及手术安排: "客户预约服务后不能取消服务…视同该次服务已完成"). A cancellation after the
  appointment began is a missed appointment (`no_show`). Elsewhere the seeds count only a missed appointment, so a
  late cancellation is free of uses: the change deadline is then the notice the vendor asks for, not a charge.
- `vendor_failed`: the expert cancelled the clinic, force majeure, or the vendor could not deliver: never the
  customer's use (001 注意事项3/4; 003 护工 七5 line 2463: "供应商当次服务免责，并为被保险人保留当次服务权益").

Decision (seed 003 护工 五3 asks 12 hours' notice for a change and names no charge; 五5/二 count days served): a
nursing aide cancelled late spends the days already served and no more.
"""
from __future__ import annotations

from datetime import datetime

from .clock import require_aware
from .cutoffs import may_change_free
from .products.catalog import Catalog, QuotaUnit, Service, UsageEvent, default_catalog

EVENTS = ("cancel", "no_show", "vendor_failed", "completed")


def service_rules(product: str, service: str, catalog: Catalog | None = None) -> Service:
    """The catalog service `service` of product `product`; ValueError for an unknown code."""
    try:
        return (catalog or default_catalog()).product(product).service(service)
    except KeyError as exc:
        raise ValueError(f"unknown product or service: {product!r}, {service!r}") from exc


def counts_by_days(service: Service) -> bool:
    return service.quota is not None and service.quota.unit is QuotaUnit.DAYS


def late_cancel_counts(service: Service) -> bool:
    """Whether cancelling after the change deadline spends the use (the words shown follow this too)."""
    return bool({UsageEvent.CANCEL_AFTER_CUTOFF, UsageEvent.CANCEL_ANY_TIME} & set(service.counts_as_used)) \
        and not counts_by_days(service)


def late_change_counts(service: Service) -> bool:
    """Whether a change asked for after the change deadline is still taken, spending the use (003 同城专车接送 Q&A(2)
    lines 634-638: "未能提前4小时取消或变更已预约的服务，视为服务已使用，但服务人员会将尽力提供服务"). Elsewhere a late
    change is refused online."""
    return UsageEvent.CHANGE_AFTER_CUTOFF in service.counts_as_used and not counts_by_days(service)


def no_show_counts(service: Service) -> bool:
    return UsageEvent.NO_SHOW in service.counts_as_used and not counts_by_days(service)


def cancel_always_counts(service: Service) -> bool:
    return UsageEvent.CANCEL_ANY_TIME in service.counts_as_used and not counts_by_days(service)


def spent(service: Service, event: str, *, starts_at: datetime, at: datetime, booked_units: int = 1,
          served_units: int = 0) -> int:
    """`units_spent` for a catalog service already looked up."""
    require_aware(starts_at, "starts_at")
    require_aware(at, "at")
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; expected one of {EVENTS}")
    for name, value, least in (("booked_units", booked_units, 1), ("served_units", served_units, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an int of at least {least}")
    if served_units > booked_units:
        raise ValueError("served_units cannot exceed booked_units")
    if not service.bookable:
        raise ValueError(f"{service.code} is an information service: nothing is booked or spent")
    if event == "vendor_failed":
        return 0
    if counts_by_days(service):
        return served_units
    if event == "completed":
        return booked_units
    if event == "cancel" and cancel_always_counts(service):
        return booked_units  # before or after it began (003 二次诊疗意见 特别说明(4) line 2581: "就无法取消服务")
    if event == "cancel" and at >= starts_at:
        event = "no_show"
    if event == "no_show":
        return booked_units if UsageEvent.NO_SHOW in service.counts_as_used else 0
    if may_change_free(service.change_rule, starts_at, at):
        return 0
    return booked_units if late_cancel_counts(service) else 0


def units_spent(product: str, service: str, event: str, *, starts_at: datetime, at: datetime, booked_units: int = 1,
                served_units: int = 0) -> int:
    """How many units of the quota an outcome spends (stable entry point; see the module's docstring).

    `product` and `service` are catalog codes; `event` is `cancel` (the customer cancels at `at`), `no_show`,
    `vendor_failed` or `completed`. Aware datetimes only; naive ones, unknown codes or events raise ValueError."""
    return spent(service_rules(product, service), event, starts_at=starts_at, at=at, booked_units=booked_units,
                 served_units=served_units)
