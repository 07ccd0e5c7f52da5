"""Password hashing and strength, token secrets and expiry, sessions."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from mediastudio.accounts import users
from mediastudio.auth import sessions
from mediastudio.auth.passwords import check_strength, hash_password, verify_password
from mediastudio.auth.secrets import digest
from mediastudio.common import utcnow
from mediastudio.errors import BadRequest, Forbidden, MediastudioError, Unprocessable
from mediastudio.tables import open_database


def test_hashes_are_argon2id_salted_and_verify() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse batterY")
    assert not verify_password(None, "anything")
    assert not verify_password("not a hash", "anything")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "too short: 6 characters, at least 8"),
        ("password123", "too easy to guess"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("my-ana-secret-x", "must not contain the username"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, message: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        check_strength(password, username="ana", min_length=8)
    assert message in refused.value.detail


def test_a_good_password_passes() -> None:
    check_strength("violet tram sixteen", username="ana", min_length=8)


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_database(tmp_path / "db.sqlite")
    with database.transaction() as session:
        yield session
    database.close()


def test_api_tokens_are_stored_hashed_and_expire(db: Session) -> None:
    user = users.create_user(db, username="ana", password="violet tram sixteen")
    plain, token = sessions.create_token(db, user, name="farm", expires_in_days=30)
    assert plain.startswith("ms_") and len(plain) > 40
    assert token.token_hash == digest(plain) and plain not in token.token_hash
    assert token.prefix == plain[:10]
    assert sessions.resolve_token(db, plain)[1].id == user.id  # type: ignore[index]
    assert sessions.resolve_token(db, plain + "x") is None

    token.expires_at = utcnow() - timedelta(seconds=1)
    db.add(token)
    assert sessions.resolve_token(db, plain) is None


def test_token_rules(db: Session) -> None:
    user = users.create_user(db, username="ana", password="violet tram sixteen")
    guest = users.create_guest(db)
    with pytest.raises(Forbidden):
        sessions.create_token(db, guest, name="x", expires_in_days=None)
    with pytest.raises(BadRequest):
        sessions.create_token(db, user, name="  ", expires_in_days=None)
    with pytest.raises(BadRequest):
        sessions.create_token(db, user, name="x", expires_in_days=0)
    plain, token = sessions.create_token(db, user, name="forever", expires_in_days=None)
    assert token.expires_at is None
    sessions.revoke_token(db, user, token.id)
    assert sessions.resolve_token(db, plain) is None


def test_sessions_expire_and_end_for_disabled_users(db: Session) -> None:
    user = users.create_user(db, username="ana", password="violet tram sixteen")
    secret, session = sessions.create_session(db, user, days=1)
    db.commit()
    assert sessions.resolve_session(db, secret, days=1) is not None
    users.set_disabled(db, user, True)
    db.commit()
    assert sessions.resolve_session(db, secret, days=1) is None

    users.set_disabled(db, user, False)
    secret, session = sessions.create_session(db, user, days=1)
    session.expires_at = utcnow() - timedelta(seconds=1)
    db.add(session)
    db.commit()
    assert sessions.resolve_session(db, secret, days=1) is None


def test_usernames_are_normalised_and_checked(db: Session) -> None:
    assert users.create_user(db, username="  Ana.B ", password="violet tram sixteen").username == "ana.b"
    for bad in ("ab", "-ana", "ana b", "guest-1", "x" * 33):
        with pytest.raises(MediastudioError):  # 400 for the shape, 422 for the reserved 'guest-'
            users.normalize_username(bad)


def test_guests_expire_with_their_workspace(db: Session, tmp_path: Path) -> None:
    from mediastudio.workspaces import service as workspaces

    guest = users.create_guest(db)
    ((workspace, _),) = workspaces.list_for_user(db, guest)
    folder = tmp_path / "workspaces" / workspace.id
    folder.mkdir(parents=True)
    assert users.expire_guests(db, idle_days=7, data_dir=tmp_path) == 0
    guest.last_seen_at = utcnow() - timedelta(days=8)
    db.add(guest)
    assert users.expire_guests(db, idle_days=7, data_dir=tmp_path) == 1
    assert db.get(type(guest), guest.id) is None
    assert db.get(type(workspace), workspace.id) is None
    assert not folder.exists()
