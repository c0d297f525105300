"""Proof (issue 14): every rule of the five seed manuals, one row each in tests/seed_rules.yaml, run against the
public services. A row cites the seed file and line, quotes the seed's words, says in English what the portal must do,
names the check and its arguments, and the expected result. Where the seed leaves something open the row carries the
portal's `decision`, found word for word in a catalog note (or in the file under webapp/ that `decision_in` names). A
rule the code does not implement, or implements against the seed, stays in the table with `xfail`: strict, so fixing
it turns the row red until the xfail is removed.

No database and no clock: every time is given (China time, +08:00); working days come from services/workdays.py, so
2026 runs on the published schedule (National Day 1–7 Oct off, Sun 20 Sep and Sat 10 Oct worked) and 2027 on the
fallback (元旦 1 Jan, Spring Festival 4–13 Feb off).
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from webapp.services import cutoffs, deadlines, eligibility, outcomes, workdays
from webapp.services.booking import apply_forms
from webapp.services.booking.expert_cancellations import ExpertWarning
from webapp.services.desk.arrangements import spec_for
from webapp.services.desk.staff_queue import review_due
from webapp.services.products.catalog import Text, default_catalog
from webapp.services.products.phones import notes_to_tell, phone_lines

HERE = Path(__file__).resolve().parent
TABLE = HERE / "seed_rules.yaml"
WEBAPP_DIR = HERE.parent / "webapp"
# The manuals live beside the repository (README: "../shared/seeds/"); LVTONG_SEEDS names another place.
SEEDS_DIR = Path(os.environ.get("LVTONG_SEEDS") or HERE.parent.parent / "shared" / "seeds")
SEEDS = {
    "000": ("000_3e625f6bdab9afbc.txt", "cigc_classic"),
    "001": ("001_baf1831c86c5aecd.txt", "haorensheng_gc"),
    "002": ("002_ee5a6d29ccbb58a1.txt", "xingtao_gc"),
    "003": ("003_31b5f5788050423d.txt", "zhongan_vip"),
    "004": ("004_33f0be092a29cea5.txt", "starr_jiuyibao"),
}
# The fewest rows a manual may have: a table that quietly loses a section fails here.
MIN_ROWS = {"000": 100, "001": 55, "002": 55, "003": 200, "004": 75}
KEYS = {"seed", "line", "quote", "rule", "name", "service", "check", "args", "expect", "decision", "decision_in", "xfail"}
REQUIRED = ("seed", "line", "quote", "rule", "name", "check", "expect")
DEFAULT_TODAY = date(2026, 6, 1)  # forms: a Monday
DEFAULT_NOW = "2026-06-01T10:00:00+08:00"

CATALOG = default_catalog()


# ---------------------------------------------------------------------------------------------- values from the table

def moment(value) -> datetime:
    """An aware datetime from the table: an ISO string with its offset (or YAML's own timestamp); never naive."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"expected a time with its offset (…+08:00), got {value!r}")
    return value


def day(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"expected a date, got {value!r}")
    return value


def plain(value):
    """A catalog value as the table writes it: enums by value, bilingual text by its Chinese, times as HH:MM."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Text):
        return value.zh
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, BaseModel):
        return {name: plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def posted(value) -> str:
    """A form value as a browser posts it: a string."""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------------------------- the checks

def check_catalog(product, service, args, expect):
    path = args["path"]
    if path == "@cities":  # the service's own list, else its product's
        got = plain(product.cities_for(service))
    elif path == "@hours":  # the desk hours of the service, else its product's
        got = plain(product.hours_for(service))
    else:
        got = service if service is not None else product
        for part in path.split("."):
            got = getattr(got, part)
        got = plain(got)
    op = args.get("op", "eq")
    if op == "eq":
        assert got == expect
    elif op == "subset":
        assert {k: got[k] for k in expect} == expect
    elif op == "contains":
        assert expect in got
    elif op == "excludes":
        assert expect not in got
    elif op == "len":
        assert len(got) == expect
    else:
        raise ValueError(f"unknown op {op!r}")


def check_units_spent(product, service, args, expect):
    got = outcomes.units_spent(product.code, service.code, args["event"], starts_at=moment(args["starts_at"]),
                               at=moment(args["at"]), booked_units=args.get("booked", 1), served_units=args.get("served", 0))
    assert got == expect


def events_of(args) -> dict[str, datetime]:
    return {name: moment(when) for name, when in args["events"].items()}


def check_promised_by(product, service, args, expect):
    assert deadlines.promised_by(product.code, service.code, events_of(args)) == day(expect)


def check_promise(product, service, args, expect):
    got = deadlines.promise(service.arrangement, product.hours_for(service), events_of(args))
    assert {"by": got.by, "first_step": got.first_step, "working_days": got.working_days} == {
        "by": day(expect["by"]), "first_step": expect["first_step"], "working_days": expect["working_days"]}


def policy_of(spec: dict | None) -> eligibility.PolicyFacts:
    spec = dict(spec or {})
    effective = day(spec.pop("effective", "2026-01-01"))
    years = spec.pop("years", 1)
    spec.setdefault("cooling_off_days", 15)
    spec.setdefault("waiting_days", 90)
    if "add_ons" in spec:
        spec["add_ons"] = tuple(spec["add_ons"])
    return eligibility.PolicyFacts(effective_date=effective, expiry_date=effective.replace(year=effective.year + years),
                                   **spec)


def check_eligibility(product, service, args, expect):
    actor = args.get("actor", "self")
    actor = eligibility.Actor(actor) if isinstance(actor, str) else eligibility.Actor(**actor)
    diagnoses = tuple(eligibility.DiagnosisFacts(d["certainty"], day(d["diagnosed_on"]), str(d.get("grade", "3A")),
                                                 d.get("public", True)) for d in args.get("diagnoses", ()))
    usage = args.get("usage")
    usage = eligibility.Usage(*usage) if usage is not None else None
    result = eligibility.check(product, service, policy_of(args.get("policy")), actor, moment(args["now"]),
                               diagnoses=diagnoses, usage=usage, units=args.get("units", 1))
    if expect == "allowed":
        assert result.allowed, result.keys()
        return
    if expect == "refused":
        assert not result.allowed
        return
    if isinstance(expect, list):
        expect = {"reasons": expect}
    assert result.keys() == expect["reasons"]
    for key, until in expect.get("until", {}).items():
        assert next(r.until for r in result.reasons if r.key == key) == day(until), key
    for key, params in expect.get("params", {}).items():
        assert dict(next(r.params for r in result.reasons if r.key == key)) == params, key


def check_documents(product, service, args, expect):
    assert list(apply_forms.documents_for(service, dict(args.get("values") or {}))) == expect


def raw_post(args) -> dict[str, str]:
    raw = dict(FORMS[args["base"]]) if "base" in args else {}
    raw.update(args.get("set") or {})
    for name in args.get("drop") or ():
        raw.pop(name, None)
    return {k: posted(v) for k, v in raw.items()}


def matched(got: str, wanted: str | None) -> str:
    """`got`, or `wanted` itself when `wanted` ends in * and `got` starts with the rest (a msgid's fixed start)."""
    if wanted and wanted.endswith("*") and got.startswith(wanted[:-1]):
        return wanted
    return got


def check_form(product, service, args, expect):
    kw = {"locale": args["locale"]} if "locale" in args else {}
    if "earliest_date" in args:
        kw["earliest_date"] = day(args["earliest_date"])
    result = apply_forms.check(product, service, raw_post(args), today=day(args.get("today", DEFAULT_TODAY)),
                               now=moment(args.get("now", DEFAULT_NOW)), units_left=args.get("units_left"), **kw)
    if expect == "ok":
        expect = {}
    assert {name: matched(msgid, expect.get("errors", {}).get(name)) for name, (msgid, _) in result.errors.items()} \
        == expect.get("errors", {})
    for name, params in expect.get("params", {}).items():
        assert dict(result.errors[name][1]) == params, name
    for name, value in expect.get("data", {}).items():
        assert result.data.get(name) == value, name
    for name in expect.get("absent", ()):
        assert name not in result.data, name
    if "documents" in expect:
        assert list(result.documents) == expect["documents"]
    if "warnings" in expect:
        assert {name: msgid for name, (msgid, _) in result.warnings.items()} == expect["warnings"]


def rule_of(service, args) -> str:
    return args["rule"] if "rule" in args else service.change_rule


def check_change_deadline(product, service, args, expect):
    got = cutoffs.change_deadline(rule_of(service, args), moment(args["starts_at"]))
    assert got == (moment(expect) if expect is not None else None)
    assert got is None or got.utcoffset().total_seconds() == 8 * 3600  # China time, whatever was given


def check_may_change_free(product, service, args, expect):
    assert cutoffs.may_change_free(rule_of(service, args), moment(args["starts_at"]), moment(args["at"])) is expect


def check_phone(product, service, args, expect):
    line = phone_lines(product, service)[args["purpose"]]
    if isinstance(expect, str):
        expect = {"number": expect}
    got = {"number": line.number, "hours": line.hours.zh, "abroad": line.abroad}
    assert {k: got[k] for k in expect} == expect


def check_desk(product, service, args, expect):
    hours = product.hours_for(service) if service is not None else product.acceptance_hours
    assert deadlines.desk_receives(hours, moment(args["at"])) == moment(expect)


def check_review_due(product, service, args, expect):
    assert review_due(product.hours_for(service), moment(args["papers_in"]), service.decision_working_days) == day(expect)


def check_earliest_visit(product, service, args, expect):
    assert apply_forms.earliest_visit_date(product, service, moment(args["now"])) == day(expect)


def check_doctor_level(product, service, args, expect):
    assert spec_for(product, service).promised_level == expect


def check_expert_refusal(product, service, args, expect):
    limit = service.expert_cancellation_limit
    assert limit is not None
    assert ExpertWarning("the named expert", args["count"], limit).may_refuse is expect


def check_told(product, service, args, expect):
    """The customer reads `contains` on `page`: a note's `tell` shown there, or (on the form) the service summary."""
    texts = [note.tell.zh for note in notes_to_tell(product, service, args["page"])]
    if args["page"] == "apply":
        texts.append(service.summary.zh)
    assert any(args["contains"] in text for text in texts) is expect, texts


def catalog_texts(product) -> list[str]:
    """Everything the product's catalog says about its seed: sections, note texts and decisions, summaries."""
    texts = [product.seed.section]
    for note in product.notes:
        texts += [note.seed.section, note.text, note.decision]
    for service in product.services:
        texts += [service.seed.section, service.summary.zh]
        for note in service.notes:
            texts += [note.seed.section, note.text, note.decision]
    return texts


def check_noted(product, service, args, expect):
    """The catalog accounts for this part of the seed: a service cites it, or a note records a decision about it."""
    assert any(args["text"] in text for text in catalog_texts(product)) is expect


CHECKS = {
    "catalog": check_catalog,
    "units_spent": check_units_spent,
    "promised_by": check_promised_by,
    "promise": check_promise,
    "eligibility": check_eligibility,
    "documents": check_documents,
    "form": check_form,
    "change_deadline": check_change_deadline,
    "may_change_free": check_may_change_free,
    "phone": check_phone,
    "desk": check_desk,
    "review_due": check_review_due,
    "earliest_visit": check_earliest_visit,
    "doctor_level": check_doctor_level,
    "expert_refusal": check_expert_refusal,
    "told": check_told,
    "noted": check_noted,
}
PRODUCT_LEVEL = {"catalog", "desk", "noted"}  # kinds that may run without a service
# The arguments each kind reads: a misspelt optional one would otherwise be ignored silently.
ARGS = {
    "catalog": {"path", "op"},
    "units_spent": {"event", "starts_at", "at", "booked", "served"},
    "promised_by": {"events"},
    "promise": {"events"},
    "eligibility": {"now", "policy", "actor", "diagnoses", "usage", "units"},
    "documents": {"values"},
    "form": {"base", "set", "drop", "today", "now", "units_left", "locale", "earliest_date"},
    "change_deadline": {"rule", "starts_at"},
    "may_change_free": {"rule", "starts_at", "at"},
    "phone": {"purpose"},
    "desk": {"at"},
    "review_due": {"papers_in"},
    "earliest_visit": {"now"},
    "doctor_level": set(),
    "expert_refusal": {"count"},
    "told": {"page", "contains"},
    "noted": {"text"},
}
# What a mapping `expect` may hold, for the kinds that take one.
EXPECT_KEYS = {
    "form": {"errors", "params", "data", "absent", "documents", "warnings"},
    "eligibility": {"reasons", "until", "params"},
    "promise": {"by", "first_step", "working_days"},
    "phone": {"number", "hours", "abroad"},
}


# ---------------------------------------------------------------------------------------------- the table

def load() -> tuple[dict, list[dict]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the table is long
    table = yaml.load(TABLE.read_text(encoding="utf-8"), Loader=loader)
    return table.get("forms") or {}, table.get("rows") or []


FORMS, ROWS = load()


def row_id(row: dict) -> str:
    return f"{row.get('seed')}:{row.get('line')}:{row.get('service') or 'product'}:{row.get('name')}"


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def decision_sources(row: dict) -> list[str]:
    if row.get("decision_in"):
        source = (WEBAPP_DIR / row["decision_in"]).read_text(encoding="utf-8")
        return [squeezed(re.sub(r"^\s*#", "", source, flags=re.M))]
    return [squeezed(text) for text in catalog_texts(CATALOG.product(SEEDS[row["seed"]][1]))]


def problems(row: dict) -> list[str]:
    """What is wrong with a row's shape (not its outcome)."""
    found = [f"missing {key}" for key in REQUIRED if key not in row]
    found += [f"unknown key {key}" for key in sorted(set(row) - KEYS)]
    if row.get("seed") not in SEEDS:
        found.append(f"seed must be one of {sorted(SEEDS)} (quoted), got {row.get('seed')!r}")
        return found
    if not isinstance(row.get("line"), int) or row["line"] < 1:
        found.append("line must be a positive int")
    for key in ("quote", "rule", "name"):
        if key in row and (not isinstance(row[key], str) or not row[key].strip()):
            found.append(f"{key} must be a non-empty string")
    if row.get("check") not in CHECKS:
        found.append(f"unknown check {row.get('check')!r}; expected one of {sorted(CHECKS)}")
    elif row.get("service") is None and row["check"] not in PRODUCT_LEVEL:
        found.append(f"check {row['check']} needs a service")
    args = row.get("args", {})
    if not isinstance(args, dict):
        found.append("args must be a mapping")
    elif row.get("check") in ARGS and set(args) - ARGS[row["check"]]:
        found.append(f"unknown args for {row['check']}: {sorted(set(args) - ARGS[row['check']])}")
    expect = row.get("expect")
    if isinstance(expect, dict) and row.get("check") in EXPECT_KEYS and set(expect) - EXPECT_KEYS[row["check"]]:
        found.append(f"unknown expect keys for {row['check']}: {sorted(set(expect) - EXPECT_KEYS[row['check']])}")
    product = CATALOG.product(SEEDS[row["seed"]][1])
    if row.get("service") is not None and row["service"] not in {s.code for s in product.services}:
        found.append(f"{product.code} has no service {row['service']!r}")
    if "xfail" in row and (not isinstance(row["xfail"], str) or not row["xfail"].strip()):
        found.append("xfail must give the reason")
    if row.get("decision_in") and not (WEBAPP_DIR / str(row["decision_in"])).is_file():
        found.append(f"decision_in names no file under webapp/: {row['decision_in']!r}")
    elif "decision_in" in row and "decision" not in row:
        found.append("decision_in without a decision")
    elif "decision" in row and not any(squeezed(row["decision"]) in text for text in decision_sources(row)):
        found.append("decision is not word for word in a catalog note (or the file decision_in names)")
    if "args" in row and isinstance(row["args"], dict) and row["args"].get("base") not in (None, *FORMS):
        found.append(f"unknown form base {row['args']['base']!r}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", str(row.get("name", ""))):
        found.append("name must be lower-case words joined by hyphens")
    return found


def params():
    for row in ROWS:
        marks = [pytest.mark.xfail(reason=row["xfail"], strict=True)] if row.get("xfail") else []
        yield pytest.param(row, id=row_id(row), marks=marks)


@pytest.fixture(autouse=True)
def published_calendar():
    """Working days as published: no operator overrides left behind by another test in this process."""
    if workdays.overrides_version() != ((), ()):
        workdays.set_overrides({}, set())


@pytest.mark.parametrize("row", list(params()))
def test_seed_rule(row):
    assert not problems(row), problems(row)
    product = CATALOG.product(SEEDS[row["seed"]][1])
    service = product.service(row["service"]) if row.get("service") else None
    CHECKS[row["check"]](product, service, row.get("args") or {}, row["expect"])


# ---------------------------------------------------------------------------------------------- the table itself

def test_every_row_is_well_formed():
    bad = {row_id(row): problems(row) for row in ROWS if problems(row)}
    assert not bad
    ids = [row_id(row) for row in ROWS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_every_manual_has_its_rows(seed):
    assert sum(row.get("seed") == seed for row in ROWS) >= MIN_ROWS[seed]


def seed_lines(seed: str) -> list[str]:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seed manuals are not at {SEEDS_DIR} (set LVTONG_SEEDS)")
    return (SEEDS_DIR / SEEDS[seed][0]).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_every_citation_is_where_it_says(seed):
    """The line exists; the quote starts on it or on the next two (seed lines wrap, with a blank line between);
    and every part of the quote (parts split at an ellipsis) follows within the next dozen lines."""
    lines = seed_lines(seed)
    wrong = []
    for row in (r for r in ROWS if r.get("seed") == seed):
        if not isinstance(row.get("line"), int) or not isinstance(row.get("quote"), str):
            continue  # test_every_row_is_well_formed names it
        line, quote = row["line"], squeezed(row["quote"])
        if not 1 <= line <= len(lines):
            wrong.append(f"{row_id(row)}: the seed has {len(lines)} lines")
            continue
        start = squeezed("".join(lines[line - 1:line + 2]))
        window = squeezed("".join(lines[line - 1:line + 12]))
        parts = [p for p in re.split(r"…+|\.\.\.+", quote) if p]
        if not parts or parts[0][:6] not in start:
            wrong.append(f"{row_id(row)}: {row['quote'][:12]!r} does not start on line {line} or the next two")
        elif any(part not in window for part in parts):
            wrong.append(f"{row_id(row)}: the quote is not in lines {line}-{line + 11}")
    assert not wrong, "\n".join(wrong)
