"""A node given no title is named by its type's title wherever the studio names it to a person (the planner's
problems, a run's progress), never by the type id or the node id."""

from __future__ import annotations

from mediastudio.engine.graph import plan
from mediastudio.engine.registry import build_node_registry
from mediastudio.graph import Graph


def test_the_problems_of_untitled_nodes_name_their_types_title() -> None:
    graph = Graph.model_validate({
        "nodes": {"n1": {"type": "text_to_image"}, "n2": {"type": "prompt", "params": {"text": "dusk"}},
                  "n3": {"type": "shot"}},
        "edges": {"n2:text->n3:images": {"source": "n2", "source_handle": "text", "target": "n3",
                                         "target_handle": "images"}}})
    checked = plan(graph, build_node_registry(), whole=True)
    messages = " ".join(issue.message for issue in checked.issues)
    assert "'Prompt' gives text" in messages, messages
    for internal in ("'text_to_image'", "'prompt' gives", "'shot'", "n1", "n2", "n3"):
        assert internal not in messages, (internal, messages)
    assert {node.title for node in checked.raw.values()} == {"Text to image", "Prompt", "Shot output"}


def test_a_title_someone_gave_is_kept_even_when_it_reads_like_another_type() -> None:
    graph = Graph.model_validate({"nodes": {"a": {"type": "prompt", "title": "seed"}}, "edges": {}})
    assert plan(graph, build_node_registry(), whole=True).raw["a"].title == "seed"


def test_the_activity_of_untitled_nodes_reads_as_words_not_ids() -> None:
    from mediastudio.collab.activity import describe_edits

    before = {"nodes": {"n2": {"type": "upscale", "title": "upscale", "params": {"scale": 2}}}}
    after = {"nodes": {"n1": {"type": "text_to_image"},
                       "n2": {"type": "upscale", "title": "upscale", "params": {"scale": 4}}}}
    phrases = [phrase for _, _, phrase in describe_edits(before, after)]
    assert phrases == ["added 'Text to image'", "changed scale 2→4 on 'Upscale'"], phrases


def test_the_activity_says_when_a_node_is_coloured_or_collapsed() -> None:
    from mediastudio.collab.activity import describe_edits

    node = {"type": "upscale", "title": "Bigger", "params": {}}
    before = {"nodes": {"a": node, "b": {**node, "color": "red", "collapsed": True}}}
    after = {"nodes": {"a": {**node, "color": "teal", "collapsed": True}, "b": node}}
    phrases = [phrase for _, _, phrase in describe_edits(before, after)]
    assert phrases == ["coloured 'Bigger' teal", "collapsed 'Bigger'", "took the colour off 'Bigger'",
                       "expanded 'Bigger'"], phrases


def test_the_activity_says_what_happened_to_a_group() -> None:
    from mediastudio.collab.activity import GROUPS, describe_edits

    frame = {"x": 0, "y": 0, "width": 300, "height": 200}
    made = {"nodes": {}, "edges": {}, "groups": {"g1": {"title": "Upscaling", "bounds": frame}}}
    changed = {"nodes": {}, "edges": {}, "groups": {"g1": {"title": "Bigger", "bounds": {**frame, "x": 40},
                                                           "bypass": True, "color": "teal"}}}
    phrases = [(what, phrase) for what, _, phrase in describe_edits({"nodes": {}, "edges": {}}, made)]
    phrases += [(what, phrase) for what, _, phrase in describe_edits(made, changed)]
    phrases += [(what, phrase) for what, _, phrase in describe_edits(changed, {"nodes": {}, "edges": {}})]
    assert phrases == [(GROUPS, "grouped nodes in 'Upscaling'"), (GROUPS, "renamed group 'Upscaling' to 'Bigger'"),
                       (GROUPS, "bypassed group 'Bigger'"), (GROUPS, "coloured group 'Bigger' teal"),
                       (GROUPS, "moved group 'Bigger'"), (GROUPS, "ungrouped 'Bigger'")]
