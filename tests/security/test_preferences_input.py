"""The preferences record is closed and small: a client cannot grow it with keys of its own, nor send a body
larger than the record could ever need, nor reach anyone else's."""

import secrets
from collections.abc import Iterator

import httpx
import pytest

from support import ApiClient, RunningServer, set_up_admin, start_server

PATH = "/api/v1/auth/me/preferences"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("preferences-input"))
    set_up_admin(server.url).close()
    yield server
    server.stop()


@pytest.fixture
def person(server: RunningServer) -> Iterator[ApiClient]:
    with ApiClient(server.url) as client:
        client.register(f"pref-{secrets.token_hex(4)}")
        yield client


def test_unknown_keys_are_refused_and_nothing_is_stored(person: ApiClient) -> None:
    for body in ({"theme": "dark"}, {"tour_step": 1, "user_id": "someone-else"}, {"__proto__": {"x": 1}}):
        refused = person.patch(PATH, json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["detail"]
    assert person.get(PATH).json() == {"tour_status": "new", "tour_step": 0, "updated_at": None}


def test_an_oversized_body_is_refused_before_it_is_read(person: ApiClient) -> None:
    padding = " " * 64 * 1024
    refused = person.patch(PATH, content=f'{{"tour_step": 1{padding}}}',
                           headers={"Content-Type": "application/json"})
    assert refused.status_code == 413, refused.text
    huge = person.patch(PATH, json={"tour_status": "x" * 100_000})
    assert huge.status_code in (400, 413)
    assert person.get(PATH).json()["tour_step"] == 0


@pytest.mark.parametrize("body", ["[]", "null", '"done"', "{", '{"tour_step": 1e400}'])
def test_a_body_that_is_no_record_is_refused(person: ApiClient, body: str) -> None:
    refused = person.patch(PATH, content=body, headers={"Content-Type": "application/json"})
    assert refused.status_code == 400, refused.text


def test_a_write_needs_the_csrf_token_of_the_session(server: RunningServer, person: ApiClient) -> None:
    cookies = {"ms_session": person.cookies.get("ms_session") or "", "ms_csrf": person.cookies.get("ms_csrf") or ""}
    forged = httpx.patch(f"{server.url}{PATH}", json={"tour_status": "done"}, cookies=cookies)
    assert forged.status_code in (401, 403)
    assert person.get(PATH).json()["tour_status"] == "new"
