"""What each run asks of the tasks and assets tables does not grow with every task or take ever made: the run
index of a scene counts that scene's runs on an index, a kind's rate (queue places and ETAs) reads its latest
successes on one, a shot's next take reads the names of that shot's takes on one, and what a person asks of their
own tasks (their active ones, their last ended, their newest, today's GPU time) is read on indexes of the person's
tasks, in a new database and in one made before these indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event

from mediastudio.comments.tables import UNREAD_LINES
from mediastudio.common import utcnow
from mediastudio.engine.service import RUNS_OF_SCENE, Engine
from mediastudio.projects.tables import ASSETS_BY_NAME
from mediastudio.tables import open_database
from mediastudio.tasks.estimates import seconds_per_unit
from mediastudio.tasks.tables import HISTORY_INDEX, OWNER_INDEXES, Task


def _plans(path: Path, ask: Any) -> list[str]:
    """The query plan of every statement `ask(session)` runs."""
    db = open_database(path)
    seen: list[tuple[str, Any]] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, params, *_: seen.append((sql, params)))
    with db.session() as session:
        ask(session)
    db.close()
    plain = sqlite3.connect(path)
    try:
        return [" ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {sql}", params))
                for sql, params in seen if sql.lstrip().upper().startswith("SELECT")]
    finally:
        plain.close()


def _studio_with_runs(path: Path) -> None:
    db = open_database(path)
    with db.session() as session:
        for index, (scene, status) in enumerate([("s_a", "succeeded"), ("s_a", "queued"), ("s_a", "failed"),
                                                 ("s_b", "succeeded"), ("s_a", "running")]):
            session.add(Task(id=f"t_{index}", kind="scene.run", lane="gpu", title="run", owner_id="u",
                             params={"scene_id": scene}, status=status, run_seconds=1.0))
        session.commit()
    db.close()


def test_a_scenes_run_index_and_a_kinds_rate_are_read_on_indexes(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite"
    _studio_with_runs(path)
    counted: list[int] = []
    plans = _plans(path, lambda session: counted.append(Engine.run_index(session, "s_a")))
    assert counted == [3]  # succeeded, queued and running runs of this scene; not the failed one, not s_b's
    assert any(f"USING INDEX {RUNS_OF_SCENE}" in plan for plan in plans), plans
    plans = _plans(path, lambda session: seconds_per_unit(session, "scene.run"))
    assert any(f"USING INDEX {HISTORY_INDEX}" in plan for plan in plans), plans
    assert not any("TEMP B-TREE" in plan for plan in plans), plans  # read in order, not sorted


def test_a_database_made_before_the_indexes_gets_them_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite"
    _studio_with_runs(path)
    older = sqlite3.connect(path)
    older.execute(f"DROP INDEX {RUNS_OF_SCENE}")
    older.execute(f"DROP INDEX {HISTORY_INDEX}")
    older.execute(f"DROP INDEX {ASSETS_BY_NAME}")
    older.execute(f"DROP INDEX {UNREAD_LINES}")
    for name in OWNER_INDEXES:
        older.execute(f"DROP INDEX {name}")
    older.execute("CREATE INDEX ix_tasks_owner_id ON tasks (owner_id)")  # as create_all made it before
    older.commit()
    older.close()
    open_database(path).close()
    reopened = sqlite3.connect(path)
    names = {row[0] for row in reopened.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    reopened.close()
    assert {RUNS_OF_SCENE, HISTORY_INDEX, ASSETS_BY_NAME, UNREAD_LINES, *OWNER_INDEXES} <= names
    assert "ix_tasks_owner_id" not in names  # the owner's alone: each of OWNER_INDEXES serves better


def _assets(path: Path, names: list[tuple[str, str]], trashed: int) -> None:
    """Assets (project id, name) alone in a new database (their projects' rows do not matter here); the one at
    index `trashed` in the trash."""
    db = open_database(path)
    db.engine.dispose()
    plain = sqlite3.connect(path)
    plain.execute("PRAGMA foreign_keys = OFF")
    for index, (project_id, name) in enumerate(names):
        plain.execute("INSERT INTO assets (id, project_id, name, category, mime, size, sha256, created_by, tags, "
                      "created_at, trashed_at) VALUES (?, ?, ?, 'generated', 'image/png', 1, '0', 'u', '', "
                      "'2026-01-01', ?)", (f"as_{index}", project_id, name, "2026-01-02" if index == trashed else None))
    plain.commit()
    plain.close()


def test_a_shots_next_take_reads_the_projects_names_on_an_index_and_counts_as_before(tmp_path: Path) -> None:
    """The next take of shot 'Hero': every take named after it counts (trashed ones too, whatever the seed and
    model), and no other shot's ('Hero 2', 'hero'), nor another project's; read on the (project, name) index,
    not by reading every asset of the project."""
    from mediastudio.engine.run import numbered

    path = tmp_path / "studio.sqlite"
    _assets(path, [("p_1", "Hero · seed 7 · #1.png"), ("p_1", "Hero · seed 8 · sd-tiny · #5.png"),
                   ("p_1", "Hero · #6.mp4"), ("p_1", "hero · #40.png"), ("p_1", "Hero 2 · seed 1 · #9.png"),
                   ("p_1", "Hero·#30.png"), ("p_1", "Heros · #31.png"), ("p_2", "Hero · #12.png"),
                   ("p_1", "Hero_ · #50.png"), ("p_1", "Hero% · #51.png")], trashed=2)
    found: list[str] = []
    plans = _plans(path, lambda session: found.extend([
        numbered(session, "p_1", "Hero", "Hero · seed 9 · sd-tiny.png"),
        numbered(session, "p_1", "Hero 2", "Hero 2 · seed 2.png"), numbered(session, "p_1", "Hero_", "Hero_.png"),
        numbered(session, "p_1", "Hero%", "Hero%.png"), numbered(session, "p_3", "Hero", "Hero.png")]))
    assert found == ["Hero · seed 9 · sd-tiny · #7.png", "Hero 2 · seed 2 · #10.png", "Hero_ · #51.png",
                     "Hero% · #52.png", "Hero · #1.png"]
    assert all(f"USING COVERING INDEX {ASSETS_BY_NAME} (project_id=? AND name>? AND name<?)" in plan
               for plan in plans), plans


def test_a_shots_next_take_is_found_among_a_few_names_sorted_by_sqlite(tmp_path: Path) -> None:
    """300 takes of 'Hero' (seeds, models, a trashed one, a shot named with a '#'): the next number is taken from
    the few names with the highest numbers, which SQLite sorts out of the range, not from all 300 read and matched
    in Python; names that only look like takes do not count, and when the highest-numbered names are none of them,
    every name is read as before."""
    from mediastudio.engine.run import TAKE_CANDIDATES, numbered

    path = tmp_path / "studio.sqlite"
    names = [("p_1", f"Hero · seed {n * 7} · {'sd-tiny' if n % 2 else 'sdxl'} · #{n}.png") for n in range(1, 301)]
    names += [("p_1", "Hero · #400 draft.png"), ("p_1", "Hero · notes #999.txt.bak"),  # not takes: no count
              ("p_1", "Take #2 · #7.png"), ("p_1", "Take #2 · seed 1 · #8.png"),  # a shot with a '#'
              ("p_2", "Hero · #900.png")]
    names += [("p_1", f"Odd · v{n} #{1000 + n}x.png") for n in range(TAKE_CANDIDATES)] + [("p_1", "Odd · #3.png")]
    _assets(path, names, trashed=299)
    database = open_database(path)
    seen: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql))
    with database.session() as session:
        assert numbered(session, "p_1", "Hero", "Hero · seed 2 · sd-tiny.png") == "Hero · seed 2 · sd-tiny · #301.png"
        assert len(seen) == 1 and "LIMIT" in seen[0]  # the few likeliest names only
        assert numbered(session, "p_1", "Take #2", "Take #2.png") == "Take #2 · #9.png"
        seen.clear()
        assert numbered(session, "p_1", "Odd", "Odd.png") == "Odd · #4.png"  # its likeliest names are no takes
        assert len(seen) == 2  # then every name, as before
    database.close()


def test_a_persons_unread_count_is_read_on_an_index_not_from_every_line_of_their_inbox(tmp_path: Path) -> None:
    """Each finished run adds a line to its owner's inbox and announces the unread count with it: counted on the
    (user, read, project) index alone, the lines already read are not visited (a year of runs, read long ago)."""
    from mediastudio.auth.tables import User
    from mediastudio.comments.inbox import unread_count
    from mediastudio.comments.tables import Notification

    path = tmp_path / "studio.sqlite"
    db = open_database(path)
    with db.session() as session:
        session.add(User(id="u_1", username="ana", display_name="Ana", color="#aa3333"))
        session.add(User(id="u_2", username="ben", display_name="Ben", color="#3333aa"))
        for number in range(300):
            session.add(Notification(id=f"nt_{number}", user_id="u_1" if number % 3 else "u_2", kind="run",
                                     read_at=None if number % 50 == 1 else utcnow()))
        session.commit()
    db.close()
    counted: list[int] = []
    plans = _plans(path, lambda session: counted.append(unread_count(session, "u_1")))
    assert counted == [4]  # nt_1, 101, 151 and 251: unread and Ana's (51 and 201 are Ben's)
    assert any(f"USING COVERING INDEX {UNREAD_LINES}" in plan for plan in plans), plans
    assert not any("TEMP B-TREE" in plan for plan in plans), plans


def _a_persons_history(path: Path, owner: str = "u_ana") -> None:
    """Ana's 600 tasks over 25 days (the last two waiting, one running, on the GPU lane) and Ben's 60; each row
    holds a run's graph in its params, as a real one does."""
    from datetime import timedelta

    node = {"type": "text_to_image", "params": {"prompt": "a lighthouse " * 8}}
    graph = {"nodes": {f"n{i}": node for i in range(12)}}
    now = utcnow()
    db = open_database(path)
    with db.session() as session:
        for number in range(660):
            whose, age = (owner, 600 - number) if number < 600 else ("u_ben", 660 - number)
            status = "succeeded" if age > 3 else ("running" if age == 3 else "queued")
            session.add(Task(id=f"t_{number:04d}", kind="scene.run", lane="gpu", title="run", owner_id=whose,
                             params={"scene_id": "s_a", "graph": graph}, status=status, run_seconds=2.0,
                             created_at=now - timedelta(hours=age), started_at=now - timedelta(hours=age, seconds=-1),
                             finished_at=now - timedelta(hours=age, seconds=-3) if status == "succeeded" else None))
        session.commit()
    db.close()


def test_what_a_person_asks_of_their_tasks_is_read_on_indexes_not_from_every_task_they_ever_had(tmp_path: Path
                                                                                                  ) -> None:
    """Every task a person asks for counts their waiting and running ones (the queue's limits and fair priority),
    every events connection reads their active and last ended tasks, the tasks page their newest, and a GPU quota
    today's GPU time: each is read on an index of the person's tasks by status, end or creation. On the owner's
    index alone each read every task the person ever had (with 9,000 tasks: 12–18 ms on each run's request,
    43 ms for the last ended ones)."""
    from mediastudio.auth.tables import User
    from mediastudio.tasks.service import active_counts, gpu_seconds_today, list_tasks
    from mediastudio.tasks.tables import OWNER_ACTIVE_INDEX, OWNER_CREATED_INDEX, OWNER_FINISHED_INDEX

    path = tmp_path / "studio.sqlite"
    _a_persons_history(path)
    ana = User(id="u_ana", username="ana", display_name="Ana", color="#aa3333")
    admin = User(id="u_admin", username="root", display_name="Root", color="#333333", is_admin=True)
    found: dict[str, Any] = {}

    def plans_of(name: str, ask: Any) -> list[str]:
        return _plans(path, lambda session: found.__setitem__(name, ask(session)))

    plans = plans_of("counts", lambda session: active_counts(session, "u_ana", "gpu"))
    assert found["counts"] == (3, 3)
    assert plans == [f"SEARCH tasks USING INDEX {OWNER_ACTIVE_INDEX} (owner_id=? AND status=?)"]

    plans = plans_of("gpu", lambda session: gpu_seconds_today(session, "u_ana"))
    assert found["gpu"] > 0
    assert f"SEARCH tasks USING INDEX {OWNER_FINISHED_INDEX} (owner_id=? AND finished_at>?)" in plans[0], plans
    assert f"SEARCH tasks USING INDEX {OWNER_ACTIVE_INDEX} (owner_id=? AND status=?)" in plans[0], plans

    plans = plans_of("newest", lambda session: list_tasks(session, ana, project_id=None, statuses=[],
                                                          everyone=False, limit=20, cursor=None)[0])
    assert [t.id for t in found["newest"]] == [f"t_{n:04d}" for n in range(599, 579, -1)]
    assert plans == [f"SEARCH tasks USING INDEX {OWNER_CREATED_INDEX} (owner_id=?)"]  # in order: no sort

    for who, everyone in ((ana, False), (admin, True)):
        plans = plans_of("active", lambda session, w=who, e=everyone: list_tasks(  # type: ignore[misc]
            session, w, project_id=None, statuses=["queued", "running", "interrupted"], everyone=e, limit=20,
            cursor=None)[0])
        expected = ["t_0599", "t_0598", "t_0597"] if who is ana else \
            ["t_0659", "t_0599", "t_0658", "t_0598", "t_0657", "t_0597"]  # Ben's too (same times: by id)
        assert [t.id for t in found["active"]] == expected
        # the few active tasks found by their status, then sorted: not every task read in order of creation
        assert "(owner_id=? AND status=?)" in plans[0] if who is ana else "(status=?)" in plans[0], plans
        assert "created" not in plans[0], plans



def test_an_events_connections_hello_reads_a_persons_tasks_on_indexes(tmp_path: Path) -> None:
    """The first message of every events connection: the person's active tasks (oldest first) found by their
    status, and their 20 last ended ones read in order of their end: neither reads every task they ever had."""
    from mediastudio.accounts.users import create_user
    from mediastudio.app import build_studio
    from mediastudio.settings import Settings
    from mediastudio.tasks.tables import OWNER_ACTIVE_INDEX, OWNER_FINISHED_INDEX

    studio = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    try:
        with studio.db.transaction() as db:
            ana = create_user(db, username="ana", password="violet tram sixteen")
        _a_persons_history(studio.db.path, owner=ana.id)
        seen: list[tuple[str, Any]] = []
        event.listen(studio.db.engine, "before_cursor_execute",
                     lambda _c, _cur, sql, params, *_: seen.append((sql, params)))
        hello = studio.tasks._hello(ana)
        assert [t.id for t in hello.tasks[:3]] == ["t_0597", "t_0598", "t_0599"]  # active, oldest first
        assert [t.id for t in hello.tasks[3:]] == [f"t_{n:04d}" for n in range(596, 576, -1)]
        plain = sqlite3.connect(studio.db.path)
        plans = [" ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {sql}", params))
                 for sql, params in seen if "FROM tasks" in sql and "owner_id" in sql]
        plain.close()
        assert plans[0] == f"SEARCH tasks USING INDEX {OWNER_ACTIVE_INDEX} (owner_id=? AND status=?)", plans
        assert plans[1] == f"SEARCH tasks USING INDEX {OWNER_FINISHED_INDEX} (owner_id=?)", plans  # no sort
    finally:
        studio.db.close()


def _with_ana(path: Path) -> tuple[Any, Any]:
    """A new database at `path` with Ana (u_1) in it, and the time now."""
    from mediastudio.auth.tables import User

    db = open_database(path)
    with db.session() as session:
        session.add(User(id="u_1", username="ana", display_name="Ana", color="#aa3333"))
        session.commit()
    return db, utcnow()


def test_a_persons_inbox_is_read_a_page_at_a_time_in_order_on_an_index(tmp_path: Path) -> None:
    """Each finished run adds a line to its owner's inbox: a page of it (the newest, or those before a line) is read
    in order on the (user, created_at) index, not by sorting every line the person ever had."""
    from datetime import timedelta

    from mediastudio.auth.tables import User
    from mediastudio.comments.inbox import visible
    from mediastudio.comments.tables import INBOX_LINES, Notification

    path = tmp_path / "studio.sqlite"
    db, now = _with_ana(path)
    with db.session() as session:
        session.add(User(id="u_2", username="ben", display_name="Ben", color="#3333aa"))
        for number in range(300):
            session.add(Notification(id=f"nt_{number:03d}", user_id="u_1" if number % 3 else "u_2", kind="run",
                                     created_at=now - timedelta(minutes=300 - number)))
        session.commit()
        ana = session.get(User, "u_1")
        assert ana is not None
        session.expunge(ana)
    db.close()
    pages: list[list[str]] = []
    plans = _plans(path, lambda session: pages.extend([
        [line.id for line in visible(session, ana, 5, None)[0]],
        [line.id for line in visible(session, ana, 5, "nt_290")[0]]]))
    assert pages == [["nt_299", "nt_298", "nt_296", "nt_295", "nt_293"],
                     ["nt_289", "nt_287", "nt_286", "nt_284", "nt_283"]]
    lines = [plan for plan in plans if "notifications" in plan and "(id=?)" not in plan and UNREAD_LINES not in plan]
    assert lines and all(f"USING INDEX {INBOX_LINES} (user_id=?" in plan for plan in lines), plans
    assert not any("TEMP B-TREE" in plan for plan in lines), plans


def test_a_scenes_runs_are_read_newest_first_on_its_index(tmp_path: Path, monkeypatch: Any) -> None:
    """The canvas lists a scene's waiting and running runs, then its newest ended ones (whatever their end):
    each status's newest read in order on the scene's runs index, not every ended run of the scene sorted."""
    from datetime import timedelta

    import mediastudio.engine.runs as runs_module
    from mediastudio.accounts.users import create_user
    from mediastudio.app import build_studio
    from mediastudio.settings import Settings

    studio = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    monkeypatch.setattr(runs_module, "require", lambda *_args, **_kwargs: None)  # rights are not what is read here
    try:
        with studio.db.transaction() as db:
            ana = create_user(db, username="ana", password="violet tram sixteen")
        now = utcnow()
        statuses = {297: "failed", 295: "cancelled", 290: "cancelled", 299: "running", 298: "queued"}
        with studio.db.session() as session:
            for number in range(300):
                session.add(Task(id=f"t_{number:03d}", kind="scene.run", lane="gpu", title="run", owner_id=ana.id,
                                 project_id="p_1", params={"scene_id": "s_a" if number % 10 else "s_b"},
                                 status=statuses.get(number, "succeeded"), run_seconds=1.0,
                                 created_at=now - timedelta(minutes=300 - number)))
            session.commit()
        seen: list[tuple[str, Any]] = []
        event.listen(studio.db.engine, "before_cursor_execute",
                     lambda _c, _cur, sql, params, *_: seen.append((sql, params)))
        listed = [task.id for task in runs_module.scene_runs(studio.db, studio.tasks, ana, "p_1", "s_a")]
        assert listed[:2] == ["t_299", "t_298"]  # waiting and running first
        assert listed[2:] == [f"t_{n:03d}" for n in range(297, 277, -1) if n % 10][:18]  # then ended, newest first
        plain = sqlite3.connect(studio.db.path)
        plans = [" ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {sql}", params))
                 for sql, params in seen if "FROM tasks" in sql and "scene_id" in sql]
        plain.close()
        assert len(plans) == 4 and all(f"USING INDEX {RUNS_OF_SCENE}" in plan for plan in plans), plans
        assert not any("TEMP B-TREE" in plan for plan in plans[1:]), plans  # the ended ones: in order, no sort
    finally:
        studio.db.close()


def test_a_webhooks_page_of_deliveries_is_read_in_order_on_an_index(tmp_path: Path) -> None:
    """A hook's deliveries are kept, each with its body: its page of the newest ones is read in order on the
    (webhook, created_at) index, not by sorting every delivery the hook ever had."""
    from datetime import timedelta

    from mediastudio.webhooks.service import newest_deliveries
    from mediastudio.webhooks.tables import NEWEST_DELIVERIES, Webhook, WebhookDelivery

    path = tmp_path / "studio.sqlite"
    db, now = _with_ana(path)
    with db.session() as session:
        session.add(Webhook(id="wh_1", owner_id="u_1", url="https://example.com/a", secret="s"))
        session.add(Webhook(id="wh_2", owner_id="u_1", url="https://example.com/b", secret="s"))
        session.commit()
        for number in range(300):
            session.add(WebhookDelivery(id=f"whd_{number:03d}", webhook_id="wh_1" if number % 3 else "wh_2",
                                        event_type="task.succeeded", payload="{}" * 200,
                                        created_at=now - timedelta(minutes=300 - number)))
        session.commit()
    db.close()
    found: list[str] = []
    plans = _plans(path, lambda session: found.extend(d.id for d in newest_deliveries(session, "wh_1", 5)))
    assert found == ["whd_299", "whd_298", "whd_296", "whd_295", "whd_293"]
    assert plans == [f"SEARCH webhook_deliveries USING INDEX {NEWEST_DELIVERIES} (webhook_id=?)"], plans
