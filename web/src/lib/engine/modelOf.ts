/**
 * Which model a node works with, as the server's planning finds it (engine/fit.py): the one its `model` input
 * brings, followed up through the nodes that only add to it (LoRA, IP-Adapter) to the node that picks one (a Model
 * node); '' for the default model (nothing connected, or a Model node left empty); null when it cannot be told.
 */
import type { GraphEdge, GraphNode } from '$lib/api/scenes';

export function modelOf(
	nodes: Readonly<Record<string, GraphNode>>,
	edges: Readonly<Record<string, GraphEdge>>,
	nodeId: string
): string | null {
	const into = new Map<string, string>();
	for (const edge of Object.values(edges)) if (edge.target_handle === 'model') into.set(edge.target, edge.source);
	const seen = new Set([nodeId]);
	let current = nodeId;
	for (;;) {
		const source = into.get(current);
		if (source === undefined) return '';
		const picked = nodes[source]?.params?.['model'];
		if (typeof picked === 'string') return picked;
		if (seen.has(source)) return null;
		seen.add(source);
		current = source;
	}
}

/** The model the server uses when none is picked: the first picture model by name, else the first of any kind. */
export function defaultModel<T extends { name: string; kind: string }>(models: readonly T[]): T | undefined {
	return models.find((m) => m.kind === 'text-to-image' || m.kind === 'inpaint') ?? models[0];
}
