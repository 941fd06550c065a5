"""Documents made and kept: a quarterly review, a monitoring return, a tracker, …

Each is kept as the view model it was made from (JSON) and the HTML page made from it, both
gzip-compressed. Making a document again keeps the new version beside the old ones; nothing
is changed or deleted (on PostgreSQL the application role may only insert and read).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Timestamp, utcnow

TRIGGERS = ("scheduled", "on_demand")


class ReportDocument(SQLModel, table=True):
    __tablename__ = "report_document"
    __table_args__ = (
        UniqueConstraint("params_key", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("trigger IN ('scheduled', 'on_demand')", name="trigger_known"),
        Index("ix_report_document_kind_period", "kind", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    params_key: str = Field(max_length=200)
    """The report and what it was asked for, canonically: ``quarterly-review|budget=12|period=2026Q1``."""
    version: int
    subject: str = Field(max_length=200)
    period: str = Field(max_length=40)
    budget_id: int | None = Field(default=None, foreign_key="budget.id", index=True)
    holder_id: int | None = Field(default=None, foreign_key="holder.id", index=True)
    funder_id: int | None = Field(default=None, foreign_key="funder.id", index=True)
    title: str = Field(max_length=300)
    trigger: str = Field(max_length=20)
    generated_by: str = Field(max_length=200)
    generated_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    model_sha256: str = Field(max_length=64)
    """SHA-256 of the view model's JSON (before compression)."""
    model_gzip: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    html_gzip: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
