"""People, their sign-in accounts, diagnoses on file, and who may act for whom."""
from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.ext.hybrid import Comparator, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import operators

from ..services.accounts import id_vault
from .base import Base


class BlindIndexComparator(Comparator[str]):
    """`Person.id_number == number` in a query compares blind indexes (services/accounts/id_vault.py); nothing else can be
    asked of a ciphertext, so any other operator is refused rather than silently comparing the wrong thing."""

    def operate(self, op, *other, **kwargs):
        if op in (operators.eq, operators.ne):
            return op(self.expression, id_vault.blind_index(other[0]))
        if op is operators.in_op:
            return self.expression.in_([id_vault.blind_index(number) for number in other[0]])
        raise NotImplementedError("an encrypted ID number can only be matched exactly (==, !=, in_)")

    def reverse_operate(self, op, other, **kwargs):
        return self.operate(op, other, **kwargs)


class Person(Base):
    """Someone the portal knows by name and ID: an insured person, a policyholder or a family member."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_type: Mapped[str] = mapped_column(String(16), default="resident_id")  # resident_id | passport | hk_macau_permit …
    # The ID number at rest (ASVS 11.x, PIPL): AES-GCM ciphertext, the id of the key that made it, and a keyed
    # blind index for exact matches and uniqueness. Read and write it as `id_number` (below), never these.
    id_number_ct: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_key: Mapped[str] = mapped_column(String(16))
    id_number_index: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date]
    mobile: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("id_type", "id_number_index"),)

    @hybrid_property
    def id_number(self) -> str | None:
        """The plaintext ID number, for code entitled to it; screens show it masked (identity.mask_id_number)."""
        if self.id_number_ct is None:
            return None
        return id_vault.decrypt(self.id_number_ct, self.id_number_key)

    @id_number.inplace.setter
    def _id_number_setter(self, number: str) -> None:
        self.id_number_ct, self.id_number_key = id_vault.encrypt(number)
        self.id_number_index = id_vault.blind_index(number)

    @id_number.inplace.comparator
    @classmethod
    def _id_number_comparator(cls) -> BlindIndexComparator:
        return BlindIndexComparator(cls.id_number_index)

    def __repr__(self) -> str:  # never the number, even in a traceback or a debugger
        return f"<Person {self.id}>"


class Account(Base):
    """A sign-in identity (a mobile number). It may belong to a person and may later act for others."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    staff_role: Mapped[str | None] = mapped_column(String(16))  # reviewer | coordinator | admin; None = customer
    display_name: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    # Who the account says it is, before that is verified (services/accounts/binding.py): a claim to a person on a policy
    # gives nothing; person_id is set only once the identity is verified.
    claimed_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    claimed_at: Mapped[datetime | None]
    # How the identity was verified: policy_mobile | staff_check | id_paper | reclaim (None: never verified)
    identity_method: Mapped[str | None] = mapped_column(String(16))
    identity_verified_at: Mapped[datetime | None]
    identity_verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # staff; None for a data match

    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])

    @property
    def is_staff(self) -> bool:
        return self.staff_role is not None

    # The interface Flask-Login expects of a user.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def get_id(self) -> str:
        return str(self.id)


class Diagnosis(Base):
    """A critical-illness diagnosis on file, as established by review of hospital papers.

    000 2.4(3)/2.5(3): suspected or confirmed by a level-2A+ public hospital; 000 Q&A: illness diagnosed before
    the policy started does not qualify.
    """

    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    certainty: Mapped[str] = mapped_column(String(16))  # suspected | confirmed
    diagnosed_on: Mapped[date]
    hospital: Mapped[str] = mapped_column(String(128))
    hospital_grade: Mapped[str] = mapped_column(String(4))  # "2" | "2A" | "3A"
    public_hospital: Mapped[bool] = mapped_column(default=True)
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class ProxyGrant(Base):
    """Someone acting for an insured: a guardian (minor or incapacitated adult) or an agent with a power of
    attorney (seed 003 医疗垫付 材料 8; 重疾住院护工 服务声明 2). The rules are in services/family/family.py."""

    __tablename__ = "proxy_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What URLs carry: random, so requests cannot be counted through (access is checked anyway).
    public_id: Mapped[str] = mapped_column(String(24), unique=True, default=lambda: secrets.token_urlsafe(12))
    grantee_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    insured_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # guardian_minor | guardian_incapacitated | power_of_attorney
    # How the authority is shown: proof papers checked by staff, or (an agent only) the insured's own approval
    method: Mapped[str] = mapped_column(String(24), default="papers", server_default="papers")  # papers | insured_approval
    relationship_label: Mapped[str | None] = mapped_column(String(32))  # 儿子, 母亲 …
    scopes: Mapped[str] = mapped_column(String(64), default="view,apply,documents")
    # draft (papers not sent) | awaiting_insured | pending (papers sent, staff to verify) | verified |
    # rejected (by staff) | declined (by the insured) | withdrawn (by the requester) | revoked
    status: Mapped[str] = mapped_column(String(16), default="pending")
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]  # exclusive; a minor's guardianship ends on the 18th birthday
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    verified_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(255))  # a reason key, then staff's own words
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]  # papers sent for verification (or the insured asked)
    decided_at: Mapped[datetime | None]  # verified, rejected, declined or withdrawn
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    ended_notice_at: Mapped[datetime | None]  # the guardian and the new adult were told it ended

    insured: Mapped[Person] = relationship(foreign_keys=[insured_person_id])
    grantee: Mapped[Account] = relationship(foreign_keys=[grantee_account_id])
