"""The staff console: routes for staff roles only (403 for customers and family members acting for them).

One blueprint, `staff`, at /staff; each module below adds the routes of one part of the console:
access (family access verified by a reviewer), accounts (disabling an account), bookings (the queue and one
application: review, arrangement, close), calendar (the holiday calendar), calls (calling the customer), desk
(applications taken on the phone), identity (ID claims and reclaims), report (the weekly report), tomorrow
(tomorrow's appointments). Their sentences are in views/staff_wording.py, beside the other wording modules.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, request
from flask_login import current_user, login_required

from ..common import refuse

bp = Blueprint("staff", __name__, url_prefix="/staff")


def staff_required(*roles: str):
    """Signed-in staff only, and only the roles named (any staff role when none is): the usual sign-in redirect
    for a visitor, 403 for a customer or family member and for staff of another role (logged)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            role = current_user.staff_role
            if role is None or (roles and role not in roles):
                refuse(f"staff:{request.endpoint}", status=403)
            return view(*args, **kwargs)

        return guarded

    return decorate


from . import access, accounts, bookings, calendar, calls, desk, identity, report, tomorrow  # noqa: E402,F401  (each adds its routes to bp)
