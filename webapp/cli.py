"""Command-line tasks: migrations, the demo world, catalog and calendar checks, reminders for cron."""
from __future__ import annotations

import functools
import getpass
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from . import migrate
from .extensions import db
from .services import jobs, retention, workdays
from .services.accounts import id_numbers, id_vault, logins
from .services.booking import diagnoses, notifications
from .services.calendar.workdays_store import load_overrides, mark_published, set_override
from .services.clock import china_date, require_aware, utc_now
from .services.demo import demo, demo_book
from .services.family import family
from .services.papers import documents
from .services.papers.storage import SHARED_MARKER, LocalStorage
from .services.products import catalog
from .sms import sender_for
from .views.papers import storage


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(demo_book_command)
    app.cli.add_command(catalog_check)
    app.cli.add_command(calendar_status)
    app.cli.add_command(calendar_set)
    app.cli.add_command(calendar_publish)
    app.cli.add_command(remind_command)
    app.cli.add_command(remind_day_before_command)
    app.cli.add_command(papers_sweep)
    app.cli.add_command(storage_init)
    app.cli.add_command(papers_purge)
    app.cli.add_command(retention_command)
    app.cli.add_command(family_birthdays)
    app.cli.add_command(diagnoses_import)
    app.cli.add_command(ids_reencrypt)
    app.cli.add_command(accounts_disable)
    app.cli.add_command(accounts_enable)


db_group = AppGroup("db", help="Database schema (Alembic).")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision):
    migrate.upgrade(db.engine(current_app), revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision):
    migrate.downgrade(db.engine(current_app), revision)
    click.echo(f"database at {revision}")


@click.command("demo")
@with_appcontext
def demo_command():
    """(Re)build the demo world relative to now. Refused outside development and demo."""
    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("the demo world is only built in development or demo mode")

    moment = utc_now()
    demo.build(db.session, moment, storage())
    documents.sweep(db.session, storage(), now=moment, grace_seconds=0)  # the old world's photos
    click.echo("Demo world rebuilt. Sign in with one of these mobile numbers:")
    for sign_in in demo.SIGN_INS:
        click.echo(f"  {sign_in.mobile}  {sign_in.who}")


@click.command("demo-book")
@click.option("--insured", type=click.IntRange(min=1), default=1000, show_default=True, help="insured people to add")
@click.option("--seed", type=int, default=16, show_default=True, help="the same seed and number give the same book")
@with_appcontext
def demo_book_command(insured, seed):
    """Build the demo world and a large book on top of it (services/demo/demo_book.py), for benchmarks. Wipes every
    table first; refused outside development and demo."""
    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("the demo book is only built in development or demo mode")

    report = demo_book.build(db.session, utc_now(), insured, seed=seed, progress=click.echo)
    rows = ", ".join(f"{count} {table}" for table, count in report.counts.items())
    click.echo(f"{insured} insured in {report.seconds:.1f} s: {rows}")
    click.echo(f"sign in as insured person k with {demo_book.MOBILE_PREFIX} and k in 8 digits "
               f"(e.g. {demo_book.mobile_of(0)}), or with the demo world's numbers")


@click.command("catalog-check")
@with_appcontext
def catalog_check():
    """Validate every product file; exits non-zero naming the file and field on the first error."""
    try:
        loaded = catalog.load_catalog()
    except catalog.CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    for product in loaded.products:
        click.echo(f"{product.code}: {len(product.services)} services ({product.seed.file})")


@click.command("calendar-status")
@with_appcontext
def calendar_status():
    """Say which coming years run on the fallback calendar because their schedule is not published."""
    load_overrides(db.session)
    missing = workdays.unpublished_years(china_date(utc_now()), ahead=1)
    if missing:
        click.echo("not published yet (fallback in use): " + ", ".join(map(str, missing)))
    else:
        click.echo("every year through next year is published")


@click.command("calendar-set")
@with_appcontext
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("status", type=click.Choice(["workday", "rest"]))
@click.option("--name", help="e.g. 春节 or 国庆节调休上班")
def calendar_set(day, status, name):
    """Override one day of the working-day calendar (e.g. 2027-02-20 workday --name 春节调休上班)."""
    set_override(db.session, day.date(), status == "workday", now=utc_now(), name=name)
    click.echo(f"{day.date()} is now a {'working day' if status == 'workday' else 'rest day'}")


@click.command("calendar-publish")
@with_appcontext
@click.argument("year", type=int)
def calendar_publish(year):
    """Mark YEAR's schedule as fully entered, once every holiday and 调休 day of it is set."""
    mark_published(db.session, year, now=utc_now())
    click.echo(f"{year} marked as published")


def once_across_servers(name: str):
    """Run the command only if no other server (or process) is running job `name` right now; otherwise say so and
    exit 0, having done nothing (services/jobs.py; issue 16 item 3: every server may carry the same crontab)."""
    def wrap(command):
        @functools.wraps(command)
        def run(*args, **kwargs):
            with jobs.only_one(db.session, name) as got:
                if not got:
                    click.echo(f"another server is running {name}; nothing done")
                    return None
                return command(*args, **kwargs)
        return run
    return wrap


def _now():
    """The app clock: config CLOCK (a zero-argument callable returning an aware datetime) or the real one."""
    clock = current_app.config.get("CLOCK")
    return require_aware(clock() if clock else utc_now(), "CLOCK()")


@click.command("remind")
@with_appcontext
@click.option("--lead-minutes", type=click.IntRange(min=1), default=180, show_default=True,
              help="Remind when a free-change deadline falls within this many minutes.")
@once_across_servers("remind")
def remind_command(lead_minutes):
    """Send reminders before free-change deadlines (run from cron; running it twice sends nothing twice)."""
    try:
        channel = notifications.channel_from_config(current_app.config.get("NOTIFY_CHANNEL", "log"))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    sent = notifications.send_reminders(db.session, _now(), channel, lead=timedelta(minutes=lead_minutes))
    click.echo(f"{sent} reminder(s) sent")


@click.command("remind-day-before")
@with_appcontext
@once_across_servers("remind-day-before")
def remind_day_before_command():
    """Ask customers to confirm tomorrow's appointments (run from cron once a day, e.g. at 10:00 China time;
    running it again sends nothing twice)."""
    try:
        channel = notifications.channel_from_config(current_app.config.get("NOTIFY_CHANNEL", "log"))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    sent = notifications.send_day_before(db.session, _now(), channel)
    click.echo(f"{sent} day-before reminder(s) sent")


@click.command("papers-sweep")
@click.option("--grace-minutes", default=60, show_default=True, help="leave files younger than this (uploads in flight)")
@with_appcontext
@once_across_servers("papers-sweep")
def papers_sweep(grace_minutes):
    """Make the photo store and the database agree after a crash (run from cron, e.g. hourly)."""
    try:
        report = documents.sweep(db.session, storage(), now=_now(), grace_seconds=grace_minutes * 60)
    except documents.SweepRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed {report.temp_files} temp file(s), {report.files_without_row} file(s) without a page, "
               f"{report.rows_without_file} page(s) whose file was missing")
    if report.rows_kept_unshared:
        raise click.ClickException(
            f"{report.rows_kept_unshared} page(s) have no file in UPLOAD_DIR and were kept: it has no "
            f"{SHARED_MARKER} marker, so it may be this server's own folder. Run `flask storage-init` once on the "
            "folder every server mounts (or use STORAGE_BACKEND=s3).")


@click.command("storage-init")
@with_appcontext
def storage_init():
    """Mark UPLOAD_DIR as the upload folder every server shares, so papers-sweep may delete rows of lost pages."""
    store = storage()
    if not isinstance(store, LocalStorage):
        click.echo("the S3 store is shared by every server: nothing to mark")
        return
    store.mark_shared()
    click.echo(f"{store.root} marked as the shared upload folder ({SHARED_MARKER})")


@click.command("papers-purge")
@click.option("--days", type=int, default=None, help="retention after an application closes (default: DOCUMENT_RETENTION_DAYS)")
@with_appcontext
@once_across_servers("papers-purge")
def papers_purge(days):
    """Delete the photos of applications closed longer ago than the retention period (run from cron, daily)."""
    days = current_app.config["DOCUMENT_RETENTION_DAYS"] if days is None else days
    if days < 0:
        raise click.ClickException("--days must be 0 or more")
    count = documents.purge_expired(db.session, storage(), now=_now(), retention=timedelta(days=days))
    click.echo(f"deleted {count} page(s) of applications closed more than {days} days ago")


@click.command("retention")
@with_appcontext
@once_across_servers("retention")
def retention_command():
    """Delete rate-limit hits, sign-in codes, ended logins and audit rows past their keeping (services/retention.py),
    in batches of 1 000 rows each committed on its own (run from cron, daily; running it again deletes nothing more)."""
    trimmed = retention.trim(db.session, _now())
    click.echo(f"deleted {trimmed.rate_hits} rate-limit hit(s), {trimmed.codes} sign-in code(s), "
               f"{trimmed.logins} ended login(s), {trimmed.audit_events} audit row(s) older than three years")


@click.command("family-birthdays")
@with_appcontext
@once_across_servers("family-birthdays")
def family_birthdays():
    """Tell guardians whose ward turned 18 that their access ended, and invite the new adult to sign in with
    their own number (run from cron, daily; access itself already stopped at midnight China time)."""
    with force_locale("zh_CN"):  # an SMS to a mobile on file: the portal's first language
        text = _("You are 18 now, so your guardian can no longer act for you in 绿通 self-service. "
                 "Sign in with your own mobile number to see and use your policy's services.")
    report = family.end_guardianships_of_adults(db.session, now=_now(), sms=sender_for(current_app), invitation=text)
    click.echo(f"{report.ended} guardianship(s) ended, {report.invited} invitation(s) sent")
    if report.failed:
        raise click.ClickException(f"invitation failed for {', '.join(report.failed)}; the guardians were told")


@click.command("ids-reencrypt")
@with_appcontext
def ids_reencrypt():
    """Re-encrypt every ID number under the first key of LVTONG_ID_KEYS and recompute its blind index (key rotation:
    services/accounts/id_vault.py). Safe to run again; prints counts only."""
    count = id_numbers.reencrypt(db.session, now=_now())
    click.echo(f"{count} ID number(s) re-encrypted under key {id_vault.keyring().current_id}")


@click.command("diagnoses-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def diagnoses_import(path):
    """Record the verified diagnoses an insurer sends (CSV: id_number, certainty, diagnosed_on, hospital,
    hospital_grade[, public_hospital]). Bad rows are listed by line and record nothing; exits 1 if any."""
    try:
        rows = diagnoses.read_file(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    report = diagnoses.import_rows(db.session, rows, now=_now())
    for line, problem in report.problems:
        click.echo(f"line {line}: {problem}", err=True)
    click.echo(f"{report.recorded} recorded, {report.already} already on file, {len(report.problems)} refused")
    if report.problems:
        raise SystemExit(1)


def _account_action(do, mobile: str, reason: str):
    """Run logins.disable_account / enable_account for the operator at the terminal (audited as the command line)."""
    if not reason.strip():  # the operator's name is added below: the service would never see an empty reason
        raise click.ClickException("--reason must say why")
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        operator = "unknown"
    try:
        return do(db.session, mobile=mobile, reason=f"{reason} (operator {operator})", now=_now(), via="cli")
    except logins.Refused as refused:
        raise click.ClickException({"account.not_found": f"no account has the mobile number {mobile}",
                                    "account.reason_needed": "--reason must say why",
                                    "account.already_disabled": "the account is already closed",
                                    "account.not_disabled": "the account is not closed"}[refused.key]) from refused


@click.command("accounts-disable")
@click.argument("mobile")
@click.option("--reason", required=True, help="why (kept in the audit log)")
@with_appcontext
def accounts_disable(mobile, reason):
    """Close the account of MOBILE: every login ends at once and it cannot sign in until accounts-enable."""
    account, ended = _account_action(logins.disable_account, mobile, reason)
    click.echo(f"account {account.id} closed; {ended} login(s) ended")


@click.command("accounts-enable")
@click.argument("mobile")
@click.option("--reason", required=True, help="why (kept in the audit log)")
@with_appcontext
def accounts_enable(mobile, reason):
    """Open the closed account of MOBILE again (the person signs in with a new code)."""
    account = _account_action(logins.enable_account, mobile, reason)
    click.echo(f"account {account.id} open again")
