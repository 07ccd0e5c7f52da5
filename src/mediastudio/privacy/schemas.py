"""What the privacy routes take and answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mediastudio.auth.schemas import PASSWORD_MAX
from mediastudio.common import UtcDatetime
from mediastudio.privacy.deletion import ProjectChoice
from mediastudio.privacy.tables import Retention

CHOICES_MAX = 10_000


class ProjectChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(max_length=64, description="A project the account owns alone (GET …/deletion lists them)")
    action: Literal["transfer", "delete"] = Field(description="transfer: moved, history and all, into the personal "
                                                              "workspace of `to`; delete: gone for good")
    to: str | None = Field(None, max_length=64, description="Who gets it (a user id), with transfer")


def choices_of(projects: list[ProjectChoiceIn]) -> dict[str, ProjectChoice]:
    return {p.id: ProjectChoice(p.action, p.to) for p in projects}


class AccountDeletion(BaseModel):
    """Deleting an account: a choice for each project it owns alone."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(None, max_length=PASSWORD_MAX, description="Your password (your own account; "
                                                                            "guests have none)")
    projects: list[ProjectChoiceIn] = Field(default_factory=list, max_length=CHOICES_MAX)


class OwnedProject(BaseModel):
    id: str
    name: str
    workspace: str
    trashed: bool


class Heir(BaseModel):
    id: str
    username: str
    display_name: str


class DeletionPlan(BaseModel):
    projects: list[OwnedProject] = Field(description="The projects that need a choice: transfer or delete")
    heirs: list[Heir] = Field(description="Who may get them (for yourself: people you share a workspace with)")
    shared_workspaces: list[str] = Field(description="Workspaces others are in: they stay with them")
    password_needed: bool = Field(description="False for a guest (no password; nothing can be handed on)")


class RetentionOut(BaseModel):
    trash_days: int = Field(description="A project in the trash is purged after this many days")
    guest_days: int = Field(description="A guest idle this long is removed with their sandbox")
    audit_days: int = Field(description="Audit log entries older than this are removed")
    task_days: int = Field(description="Finished tasks (and their files) older than this leave the history")
    export_days: int = Field(description="A personal data export is deleted this many days after it is made")
    updated_at: UtcDatetime

    @classmethod
    def of(cls, row: Retention) -> RetentionOut:
        return cls.model_validate(row, from_attributes=True)


class RetentionPatch(BaseModel):
    """Only the spans given change."""

    model_config = ConfigDict(extra="forbid")

    trash_days: int | None = Field(None, ge=1, le=36500)
    guest_days: int | None = Field(None, ge=1, le=36500)
    audit_days: int | None = Field(None, ge=1, le=36500)
    task_days: int | None = Field(None, ge=1, le=36500)
    export_days: int | None = Field(None, ge=1, le=365)
