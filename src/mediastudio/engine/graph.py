"""Graph validation and the run plan: what runs, in which order, fed by what.

Each problem is reported against the node (and field) it concerns, so the canvas can show it there:
unknown types, edges between ports that do not fit, missing required inputs, cycles, parameters
out of range, models that are not installed or of a kind the node cannot use.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mediastudio.engine.fit import Installed, base_issues, helper_issues
from mediastudio.engine.registry import NodeRegistry, NodeType, connects
from mediastudio.graph import Graph, GraphNode


@dataclass
class Issue:
    node_id: str | None
    message: str
    field: str | None = None
    edge: str | None = None
    code: str | None = None  # what kind of problem, for words or actions fitted to it (e.g. NO_MODEL)

    def as_dict(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "field": self.field, "edge": self.edge, "message": self.message,
                "code": self.code}


NO_MODEL = "no_model"
CONTROLNET_MISMATCH = "controlnet_mismatch"
# (the model's name, None for the default one; the ControlNet's folder) → why it does not fit, or None
ControlNetFit = Callable[[str | None, str], str | None]


@dataclass
class Link:
    source: str
    source_handle: str
    target_handle: str


@dataclass
class Plan:
    order: list[str]  # topological, only what the requested outputs need
    nodes: dict[str, NodeType]  # parsed parameters
    raw: dict[str, GraphNode]  # the nodes as the graph holds them (title, type, bypass…)
    links: dict[str, dict[str, Link]]  # node → input name → where it comes from
    targets: list[str]  # the requested outputs
    issues: list[Issue] = field(default_factory=list)


class GraphInvalid(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.message for i in issues))
        self.issues = issues


def _param_issues(node_id: str, cls: type[NodeType], params: dict[str, Any]) -> tuple[NodeType | None, list[Issue]]:
    try:
        return cls.model_validate(params), []
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]) or None
            issues.append(Issue(node_id, f"{name}: {error['msg']}" if name else error["msg"], field=name))
        return None, issues


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _model_kind_issues(parsed: dict[str, NodeType], classes: dict[str, type[NodeType]],
                       links: dict[str, dict[str, Link]], raw_nodes: dict[str, GraphNode],
                       installed: Mapping[str, str]) -> list[Issue]:
    """A node given a model of a kind it cannot use (a video model to Text to image, a picture model to Image to
    video…), reported on that node."""
    issues = []
    for node_id in parsed:
        kinds = classes[node_id].model_kinds
        link = links.get(node_id, {}).get("model")
        if not kinds or link is None or raw_nodes[node_id].bypass:
            continue
        name = getattr(parsed.get(link.source), "model", None)
        kind = installed.get(name) if isinstance(name, str) and name else None
        if kind is not None and kind not in kinds:
            wanted = " or ".join(kinds)
            issues.append(Issue(node_id, f"'{name}' is {_a(kind)} model; '{raw_nodes[node_id].title}' "
                                         f"needs {_a(wanted)} model.", field="model"))
    return issues


def _model_under(node_id: str, parsed: dict[str, NodeType], links: dict[str, dict[str, Link]]) -> str | None:
    """The model a node's `model` port brings, followed up through the nodes that pass it on (LoRA, ControlNet)
    to the node that picks it (None: the default model)."""
    seen = {node_id}
    link = links.get(node_id, {}).get("model")
    while link is not None and link.source not in seen:
        seen.add(link.source)
        picked = getattr(parsed.get(link.source), "model", None)
        if isinstance(picked, str):
            return picked or None
        link = links.get(link.source, {}).get("model")
    return None


def _controlnet_issues(parsed: dict[str, NodeType], links: dict[str, dict[str, Link]],
                       raw_nodes: dict[str, GraphNode], fits: ControlNetFit) -> list[Issue]:
    """A ControlNet node whose folder is missing, or was made for another base than the model it sits on."""
    issues = []
    for node_id, instance in parsed.items():
        folder = getattr(instance, "controlnet", None)
        if not isinstance(folder, str) or not folder or raw_nodes[node_id].bypass:
            continue
        problem = fits(_model_under(node_id, parsed, links), folder)
        if problem:
            issues.append(Issue(node_id, problem, field="controlnet", code=CONTROLNET_MISMATCH))
    return issues


Wiring = tuple[dict[str, GraphNode], dict[str, type["NodeType"]], list[Issue], dict[str, dict[str, Link]],
               dict[str, set[str]], list[str], set[str]]


def _wiring(graph: Graph, registry: NodeRegistry, outputs: list[str] | None) -> Wiring:
    """Every node as a run sees it, the classes of those of a known type, the problems of unknown types and of
    edges, the links and what each node feeds, the targets and the nodes they need: read over the whole graph."""
    raw_nodes = {node_id: _titled(raw, registry) for node_id, raw in graph.as_run().items()}
    issues: list[Issue] = []
    classes: dict[str, type[NodeType]] = {}
    for node_id, raw in raw_nodes.items():
        cls = registry.get(raw.type)
        if cls is None:
            issues.append(Issue(node_id, f"'{raw.title}' has an unknown node type '{raw.type}'.", field="type"))
        else:
            classes[node_id] = cls

    links: dict[str, dict[str, Link]] = defaultdict(dict)
    downstream: dict[str, set[str]] = defaultdict(set)
    for key, edge in graph.edges.items():
        source, target = edge.source, edge.target
        if source not in raw_nodes or target not in raw_nodes:
            continue  # a dangling edge: hidden on the canvas, repaired by the server
        problem, link = _edge_problem(key, edge, raw_nodes.__getitem__, classes, links)
        if problem is not None:
            issues.append(problem)
        elif link is not None:
            links[target][link.target_handle] = link
            downstream[source].add(target)

    if outputs:
        missing = [o for o in outputs if o not in raw_nodes]
        if missing:
            raise GraphInvalid([Issue(o, f"There is no node '{o}' in this scene.") for o in missing])
        targets = list(dict.fromkeys(outputs))
    else:
        targets = [n for n, c in classes.items() if c.output_node and not raw_nodes[n].bypass]
        if not targets:
            targets = [n for n, c in classes.items() if c.outputs and not downstream.get(n)]
    needed = reached(targets, lambda node_id: [link.source for link in links.get(node_id, {}).values()])
    return raw_nodes, classes, issues, links, downstream, targets, needed


def reached(targets: list[str], feeding: Callable[[str], list[str]]) -> set[str]:
    """The targets and every node that feeds them (`feeding`: the nodes one feeds from, each asked once, in the
    order they are reached). Also what made a shot's results (engine/executor.py `Execution.made_by`)."""
    reached: set[str] = set()
    queue = deque(targets)
    while queue:
        current = queue.popleft()
        if current in reached:
            continue
        reached.add(current)
        queue.extend(feeding(current))
    return reached


def _wiring_of_part(graph: Graph, registry: NodeRegistry, outputs: list[str] | None) -> Wiring | None:
    """`_wiring` read only as far as the targets reach: the nodes they need and the edges into them, and of the
    edges out of those only whether the output they name exists (a problem on a needed node). The same nodes,
    links, order and problems on the nodes that run as the whole reading gives, in the same order (a problem's
    place in the list decides which one a refusal names), for a few of a big scene's nodes: a run of one shot of
    a 400-node scene read every node and edge (~0.9 ms) to use four. None when it cannot tell the targets
    without the whole graph (no output node: the targets are the nodes nothing reads)."""
    nodes = graph.nodes
    if outputs:
        missing = [o for o in outputs if o not in nodes]
        if missing:
            raise GraphInvalid([Issue(o, f"There is no node '{o}' in this scene.") for o in missing])
    bypassed = {group_id for group_id, group in graph.groups.items() if group.bypass}
    raw_nodes: dict[str, GraphNode] = {}
    classes: dict[str, type[NodeType]] = {}

    def raw(node_id: str) -> GraphNode:  # as `Graph.as_run` and `_wiring` make it, for the nodes it is asked of
        made = raw_nodes.get(node_id)
        if made is None:
            node = nodes[node_id]
            if node.group in bypassed and not node.bypass:
                node = node.model_copy(update={"bypass": True})
            made = raw_nodes[node_id] = _titled(node, registry)
            cls = registry.get(made.type)
            if cls is not None:
                classes[node_id] = cls
        return made

    if outputs:
        targets = list(dict.fromkeys(outputs))
    else:
        targets = [n for n, node in nodes.items() if (cls := registry.get(node.type)) is not None and cls.output_node
                   and not raw(n).bypass]
        if not targets:
            return None
    edges = list(graph.edges.items())
    into: dict[str, list[int]] = defaultdict(list)
    out_of: dict[str, list[int]] = defaultdict(list)
    for index, (_, edge) in enumerate(edges):
        if edge.source in nodes and edge.target in nodes:  # a dangling edge: hidden on the canvas
            into[edge.target].append(index)
            out_of[edge.source].append(index)
    found: list[tuple[int, Issue]] = []  # edge problems by the edge's place, as `_wiring` meets them
    links: dict[str, dict[str, Link]] = defaultdict(dict)
    downstream: dict[str, set[str]] = defaultdict(set)

    def feeding(target: str) -> list[str]:  # the edges into a needed node, checked as `_wiring` checks them
        raw(target)
        sources = []
        for index in into.get(target, ()):
            key, edge = edges[index]
            problem, link = _edge_problem(key, edge, raw, classes, links)
            if problem is not None:
                found.append((index, problem))
            elif link is not None:
                links[target][link.target_handle] = link
                downstream[link.source].add(target)
                sources.append(link.source)
        return sources

    needed = reached(targets, feeding)
    for source in needed:  # an edge out to a node that does not run: only its source's side is a problem here
        for index in out_of.get(source, ()):
            key, edge = edges[index]
            source_cls = classes.get(source)
            if edge.target not in needed and source_cls is not None and edge.source_handle not in source_cls.outputs:
                found.append((index, Issue(source, f"'{raw(source).title}' has no output '{edge.source_handle}'.",
                                           edge=key)))
    issues = [Issue(n, f"'{raw_nodes[n].title}' has an unknown node type '{raw_nodes[n].type}'.", field="type")
              for n in nodes if n in needed and n not in classes]
    issues += [issue for _, issue in sorted(found, key=lambda each: each[0])]
    return raw_nodes, classes, issues, links, downstream, targets, needed


def _edge_problem(key: str, edge: Any, raw: Callable[[str], GraphNode], classes: dict[str, type[NodeType]],
                  links: dict[str, dict[str, Link]]) -> tuple[Issue | None, Link | None]:
    """What an edge between two nodes of the graph is: its problem, or the link it makes (the first of an input's
    edges to fit; `links` holds those met before)."""
    source, target = edge.source, edge.target
    source_raw, target_raw = raw(source), raw(target)
    out_name, in_name = edge.source_handle, edge.target_handle
    source_cls, target_cls = classes.get(source), classes.get(target)
    if source_cls is not None and out_name not in source_cls.outputs:
        return Issue(source, f"'{source_raw.title}' has no output '{out_name}'.", edge=key), None
    if target_cls is not None and in_name not in target_cls.inputs:
        return Issue(target, f"'{target_raw.title}' has no input '{in_name}'.", edge=key), None
    if source_cls is not None and target_cls is not None:
        out_type, in_type = source_cls.outputs[out_name], target_cls.inputs[in_name].type
        if not connects(out_type, in_type):
            return Issue(target, f"Input '{in_name}' takes {in_type}, but '{source_raw.title}' gives {out_type}.",
                         field=in_name, edge=key), None
    if in_name in links[target]:
        return Issue(target, f"Input '{in_name}' has more than one connection; keep one.", field=in_name,
                     edge=key), None
    return None, Link(source, out_name, in_name)


def _titled(raw: GraphNode, registry: NodeRegistry) -> GraphNode:
    """A node given no title holds its type id as one (graph/model.py); problems, progress and provenance
    name it by its type's title instead, as the canvas does."""
    cls = registry.get(raw.type)
    if cls is None or not cls.title or raw.title != raw.type:
        return raw
    return raw.model_copy(update={"title": cls.title})


def _no_model_issue(node_id: str, cls: type[NodeType], instance: NodeType,
                    links: dict[str, dict[str, Link]]) -> Issue | None:
    """With no model installed: on the node that picks one (a Model node), or on a node that would use the
    default one (nothing connected to its model input)."""
    picks = isinstance(getattr(instance, "model", None), str)
    uses_default = "model" in cls.inputs and "model" not in links.get(node_id, {})
    if not picks and not uses_default:
        return None
    return Issue(node_id, "No model installed — nothing can be generated yet.", field="model", code=NO_MODEL)


def plan(graph: Graph, registry: NodeRegistry, outputs: list[str] | None = None,
         installed_models: Mapping[str, str] | None = None, *, whole: bool = False,
         installed: Installed | None = None, controlnet_fit: ControlNetFit | None = None) -> Plan:
    """The run plan for `outputs` (default: every output node, else every node nothing depends on).

    Raises GraphInvalid with every problem found in what would run; with `whole`, checks every node
    (for showing problems on the canvas) and returns them in `plan.issues` instead of raising. With `installed`,
    also what was made for another base model than the node's model (engine/fit.py).
    """
    wired = None if whole else _wiring_of_part(graph, registry, outputs)
    raw_nodes, classes, issues, links, downstream, targets, needed = wired or _wiring(graph, registry, outputs)
    checked = set(raw_nodes) if whole else needed

    # Kahn's algorithm over what is needed; what is left over sits on a cycle.
    # counted by source, not by link: a node feeding two inputs of another (a picture and its mask) is one step
    indegree = {n: len({link.source for link in links.get(n, {}).values() if link.source in needed}) for n in needed}
    ready = deque(sorted(n for n, d in indegree.items() if d == 0))
    order: list[str] = []
    while ready:
        current = ready.popleft()
        order.append(current)
        for child in sorted(downstream.get(current, ())):
            if child in indegree:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
    for node_id in sorted(set(needed) - set(order)):
        issues.append(Issue(node_id, f"'{raw_nodes[node_id].title}' is part of a cycle; "
                                     "a graph must flow one way."))

    parsed: dict[str, NodeType] = {}
    for node_id in sorted(checked):
        cls = classes.get(node_id)
        if cls is None:
            continue
        raw = raw_nodes[node_id]
        params = raw.params
        instance, problems = _param_issues(node_id, cls, params)
        issues.extend(problems)
        if instance is None:
            continue
        parsed[node_id] = instance
        if raw.bypass:
            continue
        for name, port in cls.inputs.items():
            if not port.required or name in links.get(node_id, {}):
                continue
            if port.fallback and params.get(port.fallback) not in (None, "", []):
                continue
            typed = f" (or fill in '{port.fallback}')" if port.fallback else ""
            issues.append(Issue(node_id, f"'{raw.title}' needs its '{name}' input connected{typed}.",
                                field=name))
        model = getattr(instance, "model", None)
        if installed_models is not None and not installed_models:
            unpicked = _no_model_issue(node_id, cls, instance, links)
            if unpicked is not None:
                issues.append(unpicked)
        elif installed_models is not None and isinstance(model, str) and model and model not in installed_models:
            issues.append(Issue(node_id, f"No model named '{model}' is installed.", field="model"))

    if installed_models is not None:
        issues.extend(_model_kind_issues(parsed, classes, links, raw_nodes, installed_models))
    if installed is not None:
        issues.extend(base_issues(parsed, links, raw_nodes, installed))
        issues.extend(helper_issues(parsed, raw_nodes, installed))
    if controlnet_fit is not None:
        issues.extend(_controlnet_issues(parsed, links, raw_nodes, controlnet_fit))
    relevant = [i for i in issues if i.node_id is None or i.node_id in checked]
    if not targets and not whole:
        relevant.append(Issue(None, "Nothing to run: add a Shot output node (or pick the node to run)."))
    result = Plan(order=order, nodes=parsed, raw=raw_nodes, links=dict(links), targets=targets, issues=relevant)
    if relevant and not whole:
        raise GraphInvalid(relevant)
    return result
