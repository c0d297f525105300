"""Retention (services/retention.py, issue 16 item 2): what is past its keeping goes, in bounded batches each
committed on its own; what is live, or still inside a window or a legal keeping period, stays."""
from datetime import timedelta

from sqlalchemy import event, func, select

from tests.conftest import at
from webapp.models import AuditEvent, LoginSession, RateHit, SignInCode
from webapp.services import retention
from webapp.services.accounts import reclaim, signin, sms_budget
from webapp.services.booking.bookings import APPLY_LIMIT
from webapp.services.desk import contact_calls
from webapp.services.family import family
from webapp.services.papers.documents import ATTEMPT_LIMIT, UPLOAD_LIMITS

NOW = at(2027, 3, 10, 4, 0)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _code(mobile, expires_at):
    return SignInCode(mobile=mobile, code_hash="0" * 64, created_at=expires_at - signin.CODE_TTL, expires_at=expires_at)


def _login(world, token, ended_at):
    return LoginSession(token_hash=token * 64, account_id=world.account.id, created_at=at(2026, 1, 1),
                        last_seen_at=at(2026, 1, 1), ended_at=ended_at)


def test_every_rate_limit_window_fits_in_what_is_kept():
    limits = [*signin.REQUEST_LIMITS.values(), *signin.VERIFY_LIMITS.values(), signin.OWNER_ALERT,
              *signin.BIND_LIMITS.values(), *contact_calls.REVEAL_LIMITS.values(), *UPLOAD_LIMITS.values(),
              ATTEMPT_LIMIT, family.REQUEST_LIMIT, *reclaim.ATTEMPT_LIMITS.values(), APPLY_LIMIT]
    windows = [limit.window for limit in limits] + [sms_budget.WINDOW, sms_budget.ALARM_EVERY]
    assert max(windows) <= retention.RATE_HITS_KEPT


def test_old_rows_go_and_live_ones_stay(session, world):
    session.add_all([
        RateHit(bucket="code-mobile:13900000001", at=NOW - timedelta(hours=25)),  # old
        RateHit(bucket="code-mobile:13900000001", at=NOW - timedelta(hours=23)),  # inside the 24-h window
        _code("13900000001", NOW - timedelta(days=2)),  # expired two days ago
        _code("13900000002", NOW - timedelta(hours=2)),  # expired, but only just
        _code("13900000003", NOW + timedelta(minutes=4)),  # live
        _login(world, "a", NOW - timedelta(days=91)),
        _login(world, "b", NOW - timedelta(days=89)),
        _login(world, "c", None),  # live, however old
        AuditEvent(at=NOW - timedelta(days=3 * 366 + 1), action="document.view", detail={}),
        AuditEvent(at=NOW - timedelta(days=3 * 365), action="document.view", detail={}),  # under three years: kept
    ])
    session.commit()
    before = {m: _count(session, m) for m in (RateHit, SignInCode, LoginSession, AuditEvent)}

    trimmed = retention.trim(session, NOW)

    assert trimmed == retention.Trimmed(rate_hits=1, codes=1, logins=1, audit_events=1)
    assert {m: _count(session, m) for m in before} == {m: n - 1 for m, n in before.items()}
    assert session.scalar(select(SignInCode.mobile).where(SignInCode.mobile == "13900000001")) is None
    assert {row.token_hash[0] for row in session.scalars(select(LoginSession))} == {"b", "c"}
    assert retention.trim(session, NOW) == retention.Trimmed(0, 0, 0, 0)  # again: nothing more


def test_deletes_in_bounded_batches_each_committed(session, world):
    session.add_all([RateHit(bucket=f"ip:{k}", at=NOW - timedelta(days=2, minutes=k)) for k in range(7)])
    session.add(RateHit(bucket="ip:live", at=NOW - timedelta(minutes=5)))
    session.commit()
    commits = []

    def count_commit(_session):
        commits.append(1)

    event.listen(session, "after_commit", count_commit)
    deletes = []

    def count_deletes(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE FROM RATE_HITS"):
            deletes.append(len(parameters) if isinstance(parameters, (list, tuple)) else len(parameters.values()))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count_deletes)
    try:
        trimmed = retention.trim(session, NOW, batch=3)
    finally:
        event.remove(engine, "before_cursor_execute", count_deletes)
        event.remove(session, "after_commit", count_commit)

    assert trimmed.rate_hits == 7
    assert deletes == [3, 3, 1]  # never more than a batch in one statement
    assert len(commits) >= 3 + 3  # rate hits: 3 batches; codes, logins, audit rows: one empty look each
    assert session.scalars(select(RateHit.bucket)).all() == ["ip:live"]


def test_the_cron_command_reports_counts(app, session, world):
    session.add(RateHit(bucket="ip:old", at=NOW - timedelta(days=2)))
    session.commit()
    app.config["CLOCK"] = lambda: NOW
    result = app.test_cli_runner().invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "1 rate-limit hit(s)" in result.output
    assert _count(session, RateHit) == 0
