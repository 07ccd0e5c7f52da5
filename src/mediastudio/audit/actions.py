"""The fixed list of what the audit log records (docs/architecture.md lists the same)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    USER_CREATE = "user.create"  # details.via: setup, register, invite, guest_claim, guest, admin, command_line
    USER_DISABLE = "user.disable"
    USER_ENABLE = "user.enable"
    USER_ADMIN_GRANT = "user.admin_grant"
    USER_ADMIN_REVOKE = "user.admin_revoke"
    USER_PASSWORD_RESET = "user.password_reset"  # by an administrator or the command line
    USER_PASSWORD_CHANGE = "user.password_change"  # by the person themself (their current password given)
    USER_DELETE = "user.delete"  # details.via: self, admin, command_line; projects transferred and deleted
    USER_EXPORT = "user.export"  # a copy of all of a person's data (the task started)
    USER_EXPIRE = "user.expire"  # a guest idle past guest_expiry_days, removed by the studio's sweep
    WORKSPACE_CREATE = "workspace.create"
    WORKSPACE_RENAME = "workspace.rename"
    WORKSPACE_DEFAULT_ROLE = "workspace.default_role"
    WORKSPACE_MEMBER_ADD = "workspace.member_add"
    WORKSPACE_MEMBER_ROLE = "workspace.member_role"
    WORKSPACE_MEMBER_REMOVE = "workspace.member_remove"
    PROJECT_ROLE = "project.role"
    PROJECT_TRASH = "project.trash"
    PROJECT_RESTORE = "project.restore"
    PROJECT_PURGE = "project.purge"  # removed for good from the trash by the studio's sweep
    PROJECT_EXPORT = "project.export"
    PROJECT_IMPORT = "project.import"
    PROJECT_TRANSFER = "project.transfer"  # handed on as its owner's account was deleted
    PROJECT_HANDOFF = "project.handoff"  # a contact sheet, image sequence or animatic started (details.kind)
    SETTINGS_ACCESS = "settings.access"  # who the studio is for: mode, registration, guests
    SETTINGS_QUOTAS = "settings.quotas"
    SETTINGS_RETENTION = "settings.retention"  # how long trash, guests, the audit log, tasks and exports are kept
    MODEL_ADD = "model.add"
    MODEL_REMOVE = "model.remove"
    MODEL_DOWNLOAD = "model.download"
    INVITE_CREATE = "invite.create"
    INVITE_REVOKE = "invite.revoke"
    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_REMOVE = "webhook.remove"
    BACKUP_CREATE = "backup.create"  # `mediastudio backup`: the snapshot's name, what it holds, bytes copied
    BACKUP_RESTORE = "backup.restore"  # `mediastudio restore`, recorded in the restored studio
    WORKFLOW_SAVE = "workflow.save"  # nodes saved to a workspace's library
    WORKFLOW_RENAME = "workflow.rename"  # its name or description changed: before and after
    WORKFLOW_DELETE = "workflow.delete"
    WORKFLOW_IMPORT = "workflow.import"  # nodes read from a file (a workflow's JSON, a generated picture or clip)
