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

/** Room a frame keeps around its nodes (its sides, its title bar above): as `frames.ts` frames a new group. */
export interface FramePadding {
	side: number;
	top: number;
	bottom: number;
}

/** Where each box goes in a layered layout that starts at `origin` (every box named, moved or not). */
function layered(boxes: readonly Box[], edges: readonly GraphEdge[], origin: { x: number; y: number }) {
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
	const to = new Map<string, { x: number; y: number }>();
	let x = origin.x;
	for (const column of columns) {
		if (!column) continue;
		let y = origin.y;
		for (const box of column.sort((a, b) => a.y - b.y || a.x - b.x || a.id.localeCompare(b.id))) {
			to.set(box.id, { x, y });
			y += box.height + LAYOUT_GAP.y;
		}
		x += Math.max(...column.map((b) => b.width)) + LAYOUT_GAP.x;
	}
	return to;
}

const topLeft = (boxes: readonly Box[]) => ({ x: Math.min(...boxes.map((b) => b.x)), y: Math.min(...boxes.map((b) => b.y)) });

/**
 * A layered layout, left to right: each node one column right of the furthest node that feeds it (links
 * between the boxes only; a cycle is broken where it is met), each column's nodes stacked in their present
 * top-to-bottom order. The layout starts at the selection's top-left corner.
 */
export function layout(boxes: readonly Box[], edges: readonly GraphEdge[]): Positions {
	if (boxes.length < 2) return {};
	const to = layered(boxes, edges, topLeft(boxes));
	return changed(boxes, (b) => to.get(b.id)!);
}

/** A group of the scene as the layout sees it: its frame and every node in it (selected or not). */
export interface FrameOfLayout {
	bounds: { x: number; y: number; width: number; height: number };
	members: readonly Box[];
}

/**
 * The layered layout where some nodes are in groups: each group's selected nodes are laid out inside their
 * frame (from its top-left, below its title bar) and the frame is fitted to all its nodes; then each such frame
 * is one block beside the selected nodes in no group, laid out together by the links between them, a frame
 * moving with all its nodes. So a node of a group stays in its frame, and a node in none never lands in one of
 * the frames laid out. Answers the nodes that move and the frames that change.
 */
export function layoutWithFrames(
	boxes: readonly Box[],
	edges: readonly GraphEdge[],
	groupOf: (id: string) => string | null,
	frames: Record<string, FrameOfLayout>,
	padding: FramePadding
): { positions: Positions; frames: Record<string, FrameOfLayout['bounds']> } {
	const byGroup = new Map<string, Box[]>();
	const loose: Box[] = [];
	for (const box of boxes) {
		const group = groupOf(box.id);
		if (group && frames[group]) byGroup.set(group, [...(byGroup.get(group) ?? []), box]);
		else loose.push(box);
	}
	if (!byGroup.size) return { positions: layout(boxes, edges), frames: {} };
	const at = new Map<string, Box>(); // every node that may move, where it goes
	const blocks: Box[] = [...loose];
	const fitted = new Map<string, FrameOfLayout['bounds']>();
	for (const [group, selected] of byGroup) {
		const { bounds, members } = frames[group]!;
		const inner = selected.length > 1 ? layered(selected, edges, { x: bounds.x + padding.side, y: bounds.y + padding.top }) : new Map();
		const placed = members.map((m) => ({ ...m, ...(inner.get(m.id) ?? {}) }));
		placed.forEach((m) => at.set(m.id, m));
		const left = Math.min(...placed.map((b) => b.x)) - padding.side;
		const top = Math.min(...placed.map((b) => b.y)) - padding.top;
		const frame = {
			x: left,
			y: top,
			width: Math.max(...placed.map((b) => b.x + b.width)) + padding.side - left,
			height: Math.max(...placed.map((b) => b.y + b.height)) + padding.bottom - top
		};
		fitted.set(group, frame);
		blocks.push({ id: `group:${group}`, ...frame });
	}
	// The links between blocks: a node of a laid-out group speaks for its frame.
	const blockOf = (id: string) => (at.has(id) && groupOf(id) && fitted.has(groupOf(id)!) ? `group:${groupOf(id)}` : id);
	const outer = layered(blocks, edges.map((e) => ({ ...e, source: blockOf(e.source), target: blockOf(e.target) })), topLeft(blocks));
	const positions: Positions = {};
	const movedFrames: Record<string, FrameOfLayout['bounds']> = {};
	for (const [group, frame] of fitted) {
		const to = outer.get(`group:${group}`)!;
		const [dx, dy] = [to.x - frame.x, to.y - frame.y];
		const bounds = { x: Math.round(to.x), y: Math.round(to.y), width: Math.round(frame.width), height: Math.round(frame.height) };
		const was = frames[group]!.bounds;
		if (bounds.x !== was.x || bounds.y !== was.y || bounds.width !== was.width || bounds.height !== was.height) movedFrames[group] = bounds;
		for (const member of frames[group]!.members) {
			const placed = at.get(member.id)!;
			at.set(member.id, { ...placed, x: placed.x + dx, y: placed.y + dy });
		}
	}
	for (const box of loose) at.set(box.id, { ...box, ...outer.get(box.id)! });
	const everyone = [...loose, ...[...byGroup.keys()].flatMap((g) => frames[g]!.members)];
	Object.assign(positions, changed(everyone, (b) => at.get(b.id)!));
	return { positions, frames: movedFrames };
}
