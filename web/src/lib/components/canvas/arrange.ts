/**
 * Arranging selected nodes: align their edges or centres, spread them evenly, or lay them out left to right
 * by their links. Pure: boxes in (graph position and drawn size), new positions out (whole pixels, only of
 * the nodes that move).
 */
import type { GraphEdge } from '$lib/api/scenes';

export interface Box {
	id: string;
	x: number;
	y: number;
	width: number;
	height: number;
}

export type Alignment = 'left' | 'center' | 'right' | 'top' | 'middle' | 'bottom';
export type Axis = 'horizontal' | 'vertical';
type Positions = Record<string, { x: number; y: number }>;

/** Space between columns and between the nodes of a column, in an automatic layout. */
export const LAYOUT_GAP = { x: 80, y: 40 } as const;

function changed(boxes: readonly Box[], to: (box: Box) => { x: number; y: number }): Positions {
	const out: Positions = {};
	for (const box of boxes) {
		const at = to(box);
		const [x, y] = [Math.round(at.x), Math.round(at.y)];
		if (x !== Math.round(box.x) || y !== Math.round(box.y)) out[box.id] = { x, y };
	}
	return out;
}

/** Lines the boxes up on the selection's left, centre or right (or top, middle, bottom). */
export function align(boxes: readonly Box[], how: Alignment): Positions {
	if (boxes.length < 2) return {};
	const left = Math.min(...boxes.map((b) => b.x));
	const right = Math.max(...boxes.map((b) => b.x + b.width));
	const top = Math.min(...boxes.map((b) => b.y));
	const bottom = Math.max(...boxes.map((b) => b.y + b.height));
	const place: Record<Alignment, (b: Box) => { x: number; y: number }> = {
		left: (b) => ({ x: left, y: b.y }),
		center: (b) => ({ x: (left + right) / 2 - b.width / 2, y: b.y }),
		right: (b) => ({ x: right - b.width, y: b.y }),
		top: (b) => ({ x: b.x, y: top }),
		middle: (b) => ({ x: b.x, y: (top + bottom) / 2 - b.height / 2 }),
		bottom: (b) => ({ x: b.x, y: bottom - b.height })
	};
	return changed(boxes, place[how]);
}

/**
 * Spreads the boxes so the gaps between them are equal along an axis: the first and the last stay where they
 * are. When they do not fit between those two, they are laid edge to edge from the first (never overlapping).
 */
export function distribute(boxes: readonly Box[], axis: Axis): Positions {
	if (boxes.length < 3) return {};
	const [start, size] = axis === 'horizontal' ? (['x', 'width'] as const) : (['y', 'height'] as const);
	const sorted = [...boxes].sort((a, b) => a[start] - b[start] || a.id.localeCompare(b.id));
	const first = sorted[0]!;
	const last = sorted[sorted.length - 1]!;
	const span = last[start] + last[size] - first[start];
	const filled = sorted.reduce((sum, b) => sum + b[size], 0);
	const gap = Math.max(0, (span - filled) / (sorted.length - 1));
	const to = new Map<string, number>();
	let at = first[start];
	for (const box of sorted) {
		to.set(box.id, box === last && gap > 0 ? last[start] : at);
		at += box[size] + gap;
	}
	return changed(boxes, (b) => (axis === 'horizontal' ? { x: to.get(b.id)!, y: b.y } : { x: b.x, y: to.get(b.id)! }));
}

/**
 * A layered layout, left to right: each node one column right of the furthest node that feeds it (links
 * between the boxes only; a cycle is broken where it is met), each column's nodes stacked in their present
 * top-to-bottom order. The layout starts at the selection's top-left corner.
 */
export function layout(boxes: readonly Box[], edges: readonly GraphEdge[]): Positions {
	if (boxes.length < 2) return {};
	const ids = new Set(boxes.map((b) => b.id));
	const inputs = new Map<string, string[]>();
	for (const edge of edges) {
		if (!ids.has(edge.source) || !ids.has(edge.target) || edge.source === edge.target) continue;
		inputs.set(edge.target, [...(inputs.get(edge.target) ?? []), edge.source]);
	}
	const layer = new Map<string, number>();
	const visiting = new Set<string>();
	const depth = (id: string): number => {
		const known = layer.get(id);
		if (known !== undefined) return known;
		if (visiting.has(id)) return -1; // a cycle: this link does not push its node right
		visiting.add(id);
		const found = Math.max(-1, ...(inputs.get(id) ?? []).map(depth)) + 1;
		visiting.delete(id);
		layer.set(id, found);
		return found;
	};
	const columns: Box[][] = [];
	for (const box of boxes) (columns[depth(box.id)] ??= []).push(box);
	const left = Math.min(...boxes.map((b) => b.x));
	const top = Math.min(...boxes.map((b) => b.y));
	const to = new Map<string, { x: number; y: number }>();
	let x = left;
	for (const column of columns) {
		if (!column) continue;
		let y = top;
		for (const box of column.sort((a, b) => a.y - b.y || a.x - b.x || a.id.localeCompare(b.id))) {
			to.set(box.id, { x, y });
			y += box.height + LAYOUT_GAP.y;
		}
		x += Math.max(...column.map((b) => b.width)) + LAYOUT_GAP.x;
	}
	return changed(boxes, (b) => to.get(b.id)!);
}
