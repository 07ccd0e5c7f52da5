"""Comments and the inbox over a real server: threads on a take, a scene and a node, mentions that reach only
members, unread counts, resolve and reopen, who may do what, the project's history carrying the threads
through an export and an import, the events socket and webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from support import (
    ApiClient,
    RunningServer,
    WebhookReceiver,
    git,
    make_team,
    png_bytes,
    project_folder,
    run_async,
    set_up_admin,
    start_server,
    wait_until,
)

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_WEBHOOK_ALLOW_PRIVATE": "true",
       "MEDIASTUDIO_WEBHOOK_RETRY_SECONDS": "0.4"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("comments"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ana(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


_tags = iter(range(1, 1000))


@pytest.fixture
def team(server: RunningServer, ana: ApiClient) -> dict[str, Any]:
    """Ana owns a team project; Bob edits it, Vic views it; a take is uploaded."""
    made = make_team(server, ana, next(_tags))
    take = ana.post(f"/api/v1/projects/{made['project']['id']}/assets",
                    files={"file": ("take.png", png_bytes(), "image/png")})
    assert take.status_code == 201, take.text
    answer = take.json()
    return {**made, "take": answer[0] if isinstance(answer, list) else answer}


def comments_of(team: dict[str, Any]) -> str:
    return f"/api/v1/projects/{team['project']['id']}/comments"


def on_take(team: dict[str, Any], body: str, **pin: float) -> dict[str, Any]:
    return {"target": {"kind": "asset", "id": team["take"]["id"]}, "pin": pin or None, "body": body}


def test_a_thread_with_mentions_replies_and_unread_counts(server: RunningServer, ana: ApiClient,
                                                          team: dict[str, Any]) -> None:
    bob, vic = team["bob"], team["vic"]
    bob_name = bob.get("/api/v1/auth/me").json()["user"]["username"]
    outsider = ApiClient(server.url)
    outsider.register(f"eve{team['project']['id'][-6:]}")
    eve_name = outsider.get("/api/v1/auth/me").json()["user"]["username"]
    made = vic.post(comments_of(team), json=on_take(team, f"@{bob_name} the sky flickers; @{eve_name} look",
                                                    x=0.25, y=0.75, time=1.5))
    assert made.status_code == 201, made.text  # a viewer may comment
    thread = made.json()
    assert thread["pin"] == {"x": 0.25, "y": 0.75, "time": 1.5}
    assert [m["username"] for m in thread["comments"][0]["mentions"]] == [bob_name]  # Eve is no member
    # Bob is told of the mention; Eve, who is no member, is told nothing and cannot read the thread.
    inbox = bob.get("/api/v1/inbox").json()
    assert inbox["unread"] == 1 and inbox["items"][0]["kind"] == "mention"
    assert inbox["items"][0]["target_id"] == team["take"]["id"] and inbox["items"][0]["by"]["display_name"] == "Vic"
    assert outsider.get("/api/v1/inbox").json() == {"items": [], "unread": 0, "next_cursor": None}
    assert outsider.get(comments_of(team)).status_code == 404
    assert outsider.post(comments_of(team), json=on_take(team, "hi")).status_code == 404
    # Unread: Bob has one comment to read on the take; Vic, its author, none.
    summary = bob.get(f"{comments_of(team)}/summary").json()
    assert summary["unread"] == 1 and summary["targets"][0]["target"]["id"] == team["take"]["id"]
    assert vic.get(f"{comments_of(team)}/summary").json()["unread"] == 0
    # Bob replies: Vic, who started the thread, is told of the reply; Bob has read the thread now.
    replied = bob.post(f"{comments_of(team)}/{thread['id']}/replies", json={"body": "Fixed in take 2"})
    assert replied.status_code == 201, replied.text
    assert bob.get(f"{comments_of(team)}/summary").json()["unread"] == 0
    assert bob.get("/api/v1/inbox").json()["unread"] == 0  # reading the thread read its line
    vic_inbox = vic.get("/api/v1/inbox").json()
    assert vic_inbox["unread"] == 1 and vic_inbox["items"][0]["kind"] == "reply"
    listed = ana.get(comments_of(team), params={"target_kind": "asset", "target_id": team["take"]["id"]}).json()
    assert [len(t["comments"]) for t in listed["items"]] == [2] and listed["unread"] == 2
    assert ana.post(f"{comments_of(team)}/{thread['id']}/read").status_code == 204
    assert ana.get(comments_of(team)).json()["unread"] == 0
    assert vic.post("/api/v1/inbox/read", json={}).json() == {"unread": 0}


def test_resolve_reopen_edit_and_delete_rights(ana: ApiClient, team: dict[str, Any]) -> None:
    bob, vic = team["bob"], team["vic"]
    scene = team["scene"]
    thread = bob.post(comments_of(team), json={"target": {"kind": "node", "id": "prompt", "scene_id": scene["id"]},
                                               "body": "Shorter prompt?"}).json()
    first = thread["comments"][0]["id"]
    url = f"{comments_of(team)}/{thread['id']}"
    assert vic.patch(url, json={"resolved": True}).json()["resolved"] is True
    assert bob.get(url).json()["resolved_by"]["display_name"] == "Vic"
    assert bob.patch(url, json={"resolved": False}).json()["resolved"] is False
    edited = vic.patch(f"{url}/comments/{first}", json={"body": "mine now"})
    assert edited.status_code == 403 and "author" in edited.json()["detail"]
    assert vic.delete(f"{url}/comments/{first}").status_code == 403
    assert bob.patch(f"{url}/comments/{first}", json={"body": "Shorter prompt, please"}).json()[
        "comments"][0]["edited_at"] is not None
    reply = vic.post(f"{url}/replies", json={"body": "ok"}).json()["comments"][1]["id"]
    assert ana.delete(f"{url}/comments/{reply}").status_code == 204  # an owner deletes anyone's
    assert bob.delete(f"{url}/comments/{first}").status_code == 204  # the last comment: the thread goes
    assert bob.get(url).status_code == 404
    missing = bob.post(comments_of(team), json={"target": {"kind": "scene", "id": "no-such-scene"}, "body": "?"})
    assert missing.status_code == 404


def test_threads_are_in_the_history_and_travel_in_an_export(server: RunningServer, ana: ApiClient,
                                                            team: dict[str, Any]) -> None:
    thread = ana.post(comments_of(team), json=on_take(team, "Keep this one <b>bold</b>", x=0.5, y=0.5)).json()
    folder = project_folder(server, team["project"])
    wait_until(lambda: git(folder, "log", "--format=%s%n%b", "-1"),
               until=lambda log: "Commented on an asset" in log and "Mediastudio-Kind: comment" in log,
               message="the comment committed")
    assert (folder / "comments" / f"{thread['id']}.json").is_file()
    exported = ana.get(f"/api/v1/projects/{team['project']['id']}/export")
    assert exported.status_code == 200, exported.text
    imported = ana.post("/api/v1/projects/import", files={"file": ("c.msproj", exported.content)})
    assert imported.status_code == 201, imported.text
    copy = ana.get(f"/api/v1/projects/{imported.json()['id']}/comments").json()["items"]
    assert [t["comments"][0]["body"] for t in copy] == ["Keep this one <b>bold</b>"]
    # The same project imported twice: its assets get new ids, and its threads follow them.
    again = ana.post("/api/v1/projects/import", files={"file": ("c.msproj", exported.content)}).json()
    assets = ana.get(f"/api/v1/projects/{again['id']}/assets").json()["items"]
    threads = ana.get(f"/api/v1/projects/{again['id']}/comments").json()["items"]
    assert threads[0]["target"]["id"] == assets[0]["id"] != team["take"]["id"]


def _url(server: RunningServer) -> str:
    return server.url.replace("http://", "ws://") + "/api/v1/events"


def _cookie(client: ApiClient) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


def test_members_hear_comments_live_and_the_mentioned_get_a_notification(server: RunningServer, ana: ApiClient,
                                                                         team: dict[str, Any]) -> None:
    bob = team["bob"]
    bob_name = bob.get("/api/v1/auth/me").json()["user"]["username"]
    outsider = ApiClient(server.url)
    outsider.register(f"zed{team['project']['id'][-6:]}")

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with websockets.connect(_url(server), additional_headers=_cookie(bob)) as bob_ws, \
                websockets.connect(_url(server), additional_headers=_cookie(outsider)) as zed_ws:
            assert json.loads(await bob_ws.recv())["type"] == "hello"
            assert json.loads(await zed_ws.recv())["type"] == "hello"
            await asyncio.to_thread(ana.post, comments_of(team), json=on_take(team, f"@{bob_name} see this"))
            heard = []
            while len(heard) < 2:
                message = json.loads(await asyncio.wait_for(bob_ws.recv(), 5))
                if message["type"].startswith(("comment.", "notification.")):
                    heard.append(message)
            zed: list[dict] = []
            with contextlib.suppress(TimeoutError):
                while True:
                    zed.append(json.loads(await asyncio.wait_for(zed_ws.recv(), 0.5)))
            return heard, zed

    heard, zed = run_async(scenario())
    by_type = {m["type"]: m for m in heard}
    assert by_type["comment.created"]["target_id"] == team["take"]["id"]
    assert by_type["notification.created"]["kind"] == "mention" and by_type["notification.created"]["unread"] == 1
    assert "body" not in by_type["comment.created"]  # events name what changed; the text is read over HTTP
    assert [m for m in zed if m["type"].startswith(("comment.", "notification."))] == []


def test_webhooks_hear_comment_events(server: RunningServer, ana: ApiClient, team: dict[str, Any]) -> None:
    receiver, stranger_receiver = WebhookReceiver(), WebhookReceiver()
    try:
        # A hook of no project hears the comments of the projects its owner may open: a stranger's, none here.
        stranger = ApiClient(server.url)
        stranger.register(f"sly{team['project']['id'][-6:]}")
        assert stranger.post("/api/v1/webhooks", json={"url": stranger_receiver.url,
                                                       "events": ["comment.created"]}).status_code == 201
        hook = ana.post("/api/v1/webhooks", json={"url": receiver.url, "project_id": team["project"]["id"],
                                                  "events": ["comment.created", "comment.resolved"]})
        assert hook.status_code == 201, hook.text
        thread = ana.post(comments_of(team), json=on_take(team, "for the bot")).json()
        ana.patch(f"{comments_of(team)}/{thread['id']}", json={"resolved": True})
        bodies = [json.loads(r["body"]) for r in receiver.wait(2)]
        assert [b["event"] for b in bodies] == ["comment.created", "comment.resolved"]
        assert bodies[0]["comment"]["thread_id"] == thread["id"]
        assert bodies[0]["comment"]["project_id"] == team["project"]["id"]
        assert "body" not in bodies[0]["comment"]  # the text is read over the API, with the reader's rights
        assert stranger_receiver.received == []  # the other deliveries have arrived by now
    finally:
        receiver.close()
        stranger_receiver.close()


def test_the_unread_count_leaves_out_lines_of_projects_no_longer_open(server: RunningServer, ana: ApiClient,
                                                                       team: dict[str, Any]) -> None:
    """The inbox hides lines about a project the person can no longer open: its unread count (the badge, the
    answer to marking read, the live `notification.created`) must agree with the list."""
    bob, vic = team["bob"], team["vic"]
    bob_name = bob.get("/api/v1/auth/me").json()["user"]["username"]
    other = ana.post("/api/v1/projects", json={"name": "Elsewhere", "workspace_id": team["workspace"]["id"]}).json()
    other_take = ana.post(f"/api/v1/projects/{other['id']}/assets",
                          files={"file": ("other.png", png_bytes(), "image/png")}).json()
    other_take = other_take[0] if isinstance(other_take, list) else other_take
    assert vic.post(comments_of(team), json=on_take(team, f"@{bob_name} here")).status_code == 201
    said = ana.post(f"/api/v1/projects/{other['id']}/comments",
                    json={"target": {"kind": "asset", "id": other_take["id"]}, "body": f"@{bob_name} and there"})
    assert said.status_code == 201, said.text
    before = bob.get("/api/v1/inbox").json()
    assert before["unread"] == 2 and len(before["items"]) == 2
    # The other project goes to the trash: Bob can no longer open it.
    assert ana.delete(f"/api/v1/projects/{other['id']}").status_code in (200, 204)
    assert bob.get(f"/api/v1/projects/{other['id']}").status_code == 404
    after = bob.get("/api/v1/inbox").json()
    assert len(after["items"]) == 1 and after["items"][0]["project_id"] == team["project"]["id"]
    assert after["unread"] == 1, after
    # A new line about the project he can open says the same count; so does marking that one read.
    assert vic.post(comments_of(team), json=on_take(team, f"@{bob_name} again")).status_code == 201
    assert bob.get("/api/v1/inbox").json()["unread"] == 2
    first = after["items"][0]["id"]
    assert bob.post("/api/v1/inbox/read", json={"ids": [first]}).json() == {"unread": 1}
