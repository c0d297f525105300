"""The booking state machine: which moves exist, who may make them, and what each does to the quota.

A use is held when an application is made, released by rejection, withdrawal or a free cancellation, and
spent otherwise (completed, cancelled too late, no-show). DOMAIN.md; 000 （一）2.9(5)(6), （二）2.9(11);
003 同城专车接送 特别说明(5).
"""
from __future__ import annotations

from enum import Enum

from ..refusals import Refused


class State(str, Enum):
    APPLIED = "applied"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"  # eligibility approved; the vendor is arranging
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED_FREE = "cancelled_free"
    CANCELLED_COUNTED = "cancelled_counted"
    NO_SHOW = "no_show"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Effect(str, Enum):
    HOLD = "hold"
    RELEASE = "release"
    SPEND = "spend"
    REFUND = "refund"  # an admin gave a spent use back on appeal (bookings.reverse_counted_use)
    NONE = "none"


OPEN = frozenset({State.APPLIED, State.UNDER_REVIEW, State.APPROVED, State.SCHEDULED})
CLOSED = frozenset(State) - OPEN
# The rule of a step back to approved when a named expert could not be booked and alternatives are offered (000 Q&A).
FAILED_BOOKING = "named_expert_unavailable"

CUSTOMER, STAFF = "customer", "staff"

# (from, to) -> (who may make the move, quota effect)
MOVES: dict[tuple[State, State], tuple[frozenset[str], Effect]] = {
    (State.APPLIED, State.UNDER_REVIEW): (frozenset({STAFF}), Effect.NONE),
    (State.APPLIED, State.REJECTED): (frozenset({STAFF}), Effect.RELEASE),
    (State.APPLIED, State.WITHDRAWN): (frozenset({CUSTOMER, STAFF}), Effect.RELEASE),
    (State.UNDER_REVIEW, State.APPROVED): (frozenset({STAFF}), Effect.NONE),
    (State.UNDER_REVIEW, State.REJECTED): (frozenset({STAFF}), Effect.RELEASE),
    (State.UNDER_REVIEW, State.WITHDRAWN): (frozenset({CUSTOMER, STAFF}), Effect.RELEASE),
    (State.APPROVED, State.SCHEDULED): (frozenset({STAFF}), Effect.NONE),
    (State.APPROVED, State.WITHDRAWN): (frozenset({CUSTOMER, STAFF}), Effect.RELEASE),
    # 000 Q&A: a named expert could not be booked and the customer declined the alternatives: not counted
    # (recorded by the coordinator, or by the customer online; bookings.release_failed_booking / decline_alternatives).
    (State.APPROVED, State.CANCELLED_FREE): (frozenset({CUSTOMER, STAFF}), Effect.RELEASE),
    # A booking whose use a late change already counted (003 同城专车接送 Q&A(2) lines 634-638) ends counted even while
    # it is being arranged again (bookings.cancel, withdraw, close_vendor_failed).
    (State.APPROVED, State.CANCELLED_COUNTED): (frozenset({CUSTOMER, STAFF}), Effect.SPEND),
    # A free change sends the booking back to the coordinator to arrange again; the use stays held.
    (State.SCHEDULED, State.APPROVED): (frozenset({CUSTOMER, STAFF}), Effect.NONE),
    (State.SCHEDULED, State.CANCELLED_FREE): (frozenset({CUSTOMER, STAFF}), Effect.RELEASE),
    (State.SCHEDULED, State.CANCELLED_COUNTED): (frozenset({CUSTOMER, STAFF}), Effect.SPEND),
    (State.SCHEDULED, State.COMPLETED): (frozenset({STAFF}), Effect.SPEND),
    (State.SCHEDULED, State.NO_SHOW): (frozenset({STAFF}), Effect.SPEND),
}


class IllegalMove(Refused, ValueError):
    """A move the state table does not allow (key "illegal")."""

    def __init__(self, from_state: State | str, to_state: State | str, who: str):
        super().__init__("illegal", from_state=str(from_state), to_state=str(to_state), who=who)
        self.from_state, self.to_state, self.who = from_state, to_state, who

    def __str__(self) -> str:
        return f"{self.who} may not move a booking from {self.from_state} to {self.to_state}"


def move(from_state: State | str, to_state: State | str, who: str) -> Effect:
    """The quota effect of a legal move, or IllegalMove."""
    key = (State(from_state), State(to_state))
    allowed = MOVES.get(key)
    if allowed is None or who not in allowed[0]:
        raise IllegalMove(from_state, to_state, who)
    return allowed[1]
