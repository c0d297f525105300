"""The data model (SQLAlchemy 2.0 typed style). Rules live in webapp/services/, not here."""
from .audit import AuditEvent
from .base import Base, UTCDateTime
from .bookings import Booking, BookingTransition
from .calendar import HolidayOverride, PublishedYear
from .confirmations import DayConfirmation
from .desk import DeskLink
from .documents import Document, DocumentPage
from .identity import IdentityReclaim
from .notifications import Notification
from .people import Account, Diagnosis, Person, ProxyGrant
from .products import Entitlement, Policy, Product, Service
from .signin import HumanCheck, LoginSession, RateHit, SignInCode

__all__ = [
    "Account", "AuditEvent", "Base", "Booking", "BookingTransition", "DayConfirmation", "DeskLink", "Diagnosis", "Document", "DocumentPage",
    "Entitlement", "HolidayOverride", "IdentityReclaim", "HumanCheck", "LoginSession", "Notification", "Person", "Policy", "Product", "ProxyGrant", "PublishedYear", "RateHit", "Service",
    "SignInCode", "UTCDateTime",
]
