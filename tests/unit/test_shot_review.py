"""A shot's review state (review/): read leniently from scene files and documents, changed field by field in the
live document (two people's changes at once both count), and takes numbered whatever their seed and model."""

from __future__ import annotations

from pycrdt import Doc
from sqlmodel import Session, SQLModel, create_engine

from mediastudio.collab import document
from mediastudio.graph import Graph
from mediastudio.review.board import cover_take, shots_in_order

SHOT = {"type": "shot", "title": "Hero", "position": {"x": 0, "y": 0}, "params": {"name": "Hero"}, "bypass": False}


def _graph(**review: object) -> Graph:
    return Graph.model_validate({"nodes": {"hero": {**SHOT, "review": review}}, "edges": {}})


def test_a_review_is_read_leniently_and_left_out_while_unset() -> None:
    read = _graph(status="done", take="as_1", take_by=7, order="2", extra=1).nodes["hero"].review
    assert read is not None and read.model_dump() == {"status": "todo", "take": "as_1"}  # wrong kinds dropped
    assert "review" not in Graph.model_validate({"nodes": {"hero": SHOT}, "edges": {}}).model_dump()["nodes"]["hero"]
    assert _graph(status="approved", order=2.0).model_dump()["nodes"]["hero"]["review"] == {"status": "approved",
                                                                                            "order": 2}


def test_review_fields_changed_at_once_by_two_people_both_count() -> None:
    base = document.new_document(_graph(status="todo"), epoch=1)
    ana, bob = Doc(), Doc()
    ana.apply_update(base.get_update())
    bob.apply_update(base.get_update())
    assert document.patch_reviews(ana, {"hero": {"status": "approved", "status_by": "u_ana"}}) == []
    assert document.patch_reviews(bob, {"hero": {"take": "as_2", "take_by": "u_bob"}}) == []
    ana.apply_update(bob.get_update())
    bob.apply_update(ana.get_update())
    for doc in (ana, bob):
        review = document.graph_from_doc(doc).nodes["hero"].review
        assert review is not None
        assert (review.status, review.status_by, review.take, review.take_by) == ("approved", "u_ana", "as_2", "u_bob")
    assert document.patch_reviews(ana, {"hero": {"take": None}, "gone": {"status": "todo"}}) == ["gone"]
    assert document.patch_reviews(ana, {"hero": {"take": None, "take_by": None}}) == []
    review = document.graph_from_doc(ana).nodes["hero"].review
    assert review is not None and review.take is None and review.status == "approved"
    # A graph written whole (a PUT of the graph) keeps the review it sends, and drops it when it sends none.
    document.apply_graph(ana, _graph(status="review"))
    assert document.graph_from_doc(ana).model_dump()["nodes"]["hero"]["review"] == {"status": "review"}
    document.apply_graph(ana, Graph.model_validate({"nodes": {"hero": SHOT}, "edges": {}}))
    assert document.graph_from_doc(ana).nodes["hero"].review is None


def test_shots_follow_their_board_order_then_the_canvas() -> None:
    nodes = {"low": {**SHOT, "position": {"x": 0, "y": 500}}, "high": {**SHOT, "position": {"x": 0, "y": -50}},
             "first": {**SHOT, "position": {"x": 0, "y": 900}, "review": {"order": 1}},
             "note": {"type": "note", "title": "Note", "position": {"x": 0, "y": -100}}}
    graph = Graph.model_validate({"nodes": nodes, "edges": {}})
    assert [node_id for node_id, _ in shots_in_order(graph)] == ["first", "high", "low"]


def test_the_cover_is_the_picked_take_while_it_is_one_else_the_newest() -> None:
    takes = [("take", type("A", (), {"id": "as_new"})()), ("take", type("A", (), {"id": "as_old"})())]
    assert cover_take(_graph(take="as_old").nodes["hero"].review, takes)[1].id == "as_old"  # type: ignore[arg-type,index]
    assert cover_take(_graph(take="as_trashed").nodes["hero"].review, takes)[1].id == "as_new"  # type: ignore[arg-type,index]
    assert cover_take(None, takes)[1].id == "as_new"  # type: ignore[arg-type,index]
    assert cover_take(None, []) is None


def test_takes_are_numbered_across_seeds_and_models(tmp_path: object) -> None:
    from mediastudio.engine.run import numbered
    from mediastudio.projects.tables import Asset

    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[Asset.__table__])  # type: ignore[attr-defined]
    with Session(engine) as db:
        for i, name in enumerate(["Hero · seed 7 · #1.png", "Hero · seed 8 · sd-tiny · #5.png", "Hero · #3.mp4",
                                  "Hero 2 · seed 1 · sd-tiny · #9.png"]):
            db.add(Asset(id=f"as_{i}", project_id="p_1", name=name, category="generated", mime="image/png", size=1,
                         sha256="0", created_by="u_1"))
        db.commit()
        assert numbered(db, "p_1", "Hero", "Hero · seed 9 · sd-tiny.png") == "Hero · seed 9 · sd-tiny · #6.png"
        assert numbered(db, "p_1", "Hero 2", "Hero 2 · seed 2 · other.png") == "Hero 2 · seed 2 · other · #10.png"
