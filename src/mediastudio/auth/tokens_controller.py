"""/api/v1/auth/tokens: personal API tokens, shown once, stored hashed, revocable."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediastudio.audit.actions import Action
from mediastudio.audit.record import ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep
from mediastudio.auth.schemas import TokenCreate, TokenCreated, TokenOut
from mediastudio.auth.sessions import create_token, list_tokens, revoke_token
from mediastudio.common import Page
from mediastudio.db import DatabaseDep


class TokensController(Controller):
    path = "/api/v1/auth/tokens"
    tags = ("auth",)

    @get(summary="Your API tokens (never their secrets)", sync_to_thread=True)
    def list_tokens(self, identity: IdentityDep, database: DatabaseDep) -> Page[TokenOut]:
        with database.session() as db:
            return Page(items=[TokenOut.of(t) for t in list_tokens(db, identity.user)])

    @post(
        summary="Create an API token; its secret is in this answer only",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def create_token(self, data: JSONBody[TokenCreate], identity: IdentityDep, database: DatabaseDep,
                     actor: ActorDep) -> TokenCreated:
        with database.transaction() as db:
            plain, token = create_token(db, identity.user, name=data.name, expires_in_days=data.expires_in_days)
            record(db, actor, Action.TOKEN_CREATE, Target("token", token.id, token.name),
                   {"expires_in_days": data.expires_in_days})
        return TokenCreated(**TokenOut.of(token).model_dump(), token=plain)

    @delete("/{token_id:str}", summary="Revoke an API token", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def revoke_token(self, token_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                     actor: ActorDep) -> None:
        with database.transaction() as db:
            token = revoke_token(db, identity.user, token_id)
            record(db, actor, Action.TOKEN_REVOKE, Target("token", token.id, token.name))
