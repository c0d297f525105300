"""Command-line tasks: migrations, the demo world, catalog and calendar checks."""
from __future__ import annotations

import click
from flask import Flask, current_app

from . import migrate
from .extensions import db
from .services import catalog, demo, workdays
from .services.clock import china_date, utc_now
from .services.workdays_store import load_overrides


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(catalog_check)
    app.cli.add_command(calendar_status)


@click.group("db")
def db_group():
    """Database schema (Alembic)."""


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
def demo_command():
    """(Re)build the demo world relative to now. Refused outside development and demo."""
    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("the demo world is only built in development or demo mode")
    demo.build(db.session, utc_now())
    click.echo("Demo world rebuilt. Sign in with one of these mobile numbers:")
    for sign_in in demo.SIGN_INS:
        click.echo(f"  {sign_in.mobile}  {sign_in.who}")


@click.command("catalog-check")
def catalog_check():
    """Validate every product file; exits non-zero naming the file and field on the first error."""
    try:
        loaded = catalog.load_catalog()
    except catalog.CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    for product in loaded.products:
        click.echo(f"{product.code}: {len(product.services)} services ({product.seed.file})")


@click.command("calendar-status")
def calendar_status():
    """Say which coming years run on the fallback calendar because their schedule is not published."""
    load_overrides(db.session)
    missing = workdays.unpublished_years(china_date(utc_now()), ahead=1)
    if missing:
        click.echo("not published yet (fallback in use): " + ", ".join(map(str, missing)))
    else:
        click.echo("every year through next year is published")
