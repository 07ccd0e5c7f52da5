"""/api/v1/projects/{id}/roles: who may do what on a project."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody

from mediastudio.audit.actions import Action
from mediastudio.audit.record import ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep
from mediastudio.auth.tables import User
from mediastudio.db import DatabaseDep
from mediastudio.projects import roles as project_roles
from mediastudio.projects.schemas import ProjectMember, RoleSet
from mediastudio.projects.tables import Project


class ProjectRolesController(Controller):
    path = "/api/v1/projects/{project_id:str}"
    tags = ("history",)  # the roles were served with the history: their OpenAPI tag stays

    @get("/roles", summary="Everyone in the project's workspace and their role on it", sync_to_thread=True)
    def roles(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep) -> list[ProjectMember]:
        with database.session() as db:
            return project_roles.members(db, identity.user, project_id)

    @put(
        "/roles/{user_id:str}",
        summary="Give a member a role on this project (null: the workspace default)",
        sync_to_thread=True,
    )
    def set_role(
        self,
        project_id: FromPath[str],
        user_id: FromPath[str],
        data: JSONBody[RoleSet],
        identity: IdentityDep,
        database: DatabaseDep,
        actor: ActorDep,
    ) -> list[ProjectMember]:
        with database.transaction() as db:
            members = project_roles.set_role(db, identity.user, project_id, user_id, data.role)
            project, member = db.get(Project, project_id), db.get(User, user_id)
            record(db, actor, Action.PROJECT_ROLE, Target("project", project_id, project.name if project else ""),
                   {"user_id": user_id, "username": member.username if member else "", "role": data.role})
            return members
