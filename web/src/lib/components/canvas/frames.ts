/**
 * Groups on the canvas: each group of the scene is drawn as a frame, a Svelte Flow node of type 'frame' (id
 * `group:<id>`) lying under the nodes. Its title bar is what a pointer grabs to move it (its nodes move with it)
 * and what a double-click renames; its corners resize it. This module is the pure part: the frames as Svelte
 * Flow nodes, and the geometry of what lies in a frame.
 */
import type { Node } from '@xyflow/svelte';
import { getContext, setContext } from 'svelte';
import type { Bounds, GraphGroup } from '$lib/api/scenes';
import type { NodeColor, Point } from '$lib/collab/model';

export interface FrameData extends Record<string, unknown> {
	groupId: string;
	title: string;
	color: NodeColor | null;
	bypass: boolean;
	/** How many nodes are in the group. */
	members: number;
}

export type FlowFrame = Node<FrameData, 'frame'>;

const PREFIX = 'group:';
/** Frames lie under every node and link, selected or not (Svelte Flow lifts a selected node by 1000). */
export const FRAME_Z = -2000;
/** Room around the nodes a new group frames: the sides, and the title bar above them. */
export const FRAME_PADDING = { side: 24, top: 56, bottom: 24 } as const;

export const frameId = (groupId: string) => `${PREFIX}${groupId}`;
export const groupOfFrame = (id: string): string | null => (id.startsWith(PREFIX) ? id.slice(PREFIX.length) : null);
export const isFrame = (node: Node): node is FlowFrame => node.type === 'frame';

export interface Box {
	x: number;
	y: number;
	width: number;
	height: number;
}

/** The frame a new group gets around these nodes' boxes. */
export function frameAround(boxes: readonly Box[]): Bounds {
	const left = Math.min(...boxes.map((b) => b.x));
	const top = Math.min(...boxes.map((b) => b.y));
	const right = Math.max(...boxes.map((b) => b.x + b.width));
	const bottom = Math.max(...boxes.map((b) => b.y + b.height));
	return {
		x: Math.round(left - FRAME_PADDING.side),
		y: Math.round(top - FRAME_PADDING.top),
		width: Math.round(right - left + 2 * FRAME_PADDING.side),
		height: Math.round(bottom - top + FRAME_PADDING.top + FRAME_PADDING.bottom)
	};
}

/** Whether a node's box lies in a frame: its centre does. */
export function inFrame(box: Box, frame: Bounds): boolean {
	const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
	return cx >= frame.x && cx <= frame.x + frame.width && cy >= frame.y && cy <= frame.y + frame.height;
}

/** The group a node dropped at `box` belongs to: the smallest frame its centre lies in (frames may overlap). */
export function frameAt(box: Box, frames: Record<string, Bounds>): string | null {
	let found: string | null = null;
	let area = Infinity;
	for (const [id, frame] of Object.entries(frames)) {
		if (inFrame(box, frame) && frame.width * frame.height < area) [found, area] = [id, frame.width * frame.height];
	}
	return found;
}

/**
 * The frame grown to hold a node dropped in it near or over its edge (the node's box with the frame's room
 * around it: the sides, the title bar above); null when the node already fits. A frame never shrinks here.
 */
export function grownToHold(frame: Bounds, box: Box): Bounds | null {
	const left = Math.min(frame.x, Math.floor(box.x - FRAME_PADDING.side));
	const top = Math.min(frame.y, Math.floor(box.y - FRAME_PADDING.top));
	const right = Math.max(frame.x + frame.width, Math.ceil(box.x + box.width + FRAME_PADDING.side));
	const bottom = Math.max(frame.y + frame.height, Math.ceil(box.y + box.height + FRAME_PADDING.bottom));
	if (left === frame.x && top === frame.y && right === frame.x + frame.width && bottom === frame.y + frame.height) return null;
	return { x: left, y: top, width: right - left, height: bottom - top };
}

/** The groups as Svelte Flow frames; an unchanged frame is given back as it was (and a dragged one where the
 * pointer has it, over the echo of its own writes). */
export function reconcileFrames(
	previous: readonly FlowFrame[],
	groups: Record<string, GraphGroup>,
	members: ReadonlyMap<string, number>,
	readonly: boolean
): { frames: FlowFrame[]; positions: Map<string, Point> } {
	const before = new Map(previous.map((frame) => [frame.id, frame]));
	const positions = new Map<string, Point>();
	const frames = Object.entries(groups).map(([groupId, group]): FlowFrame => {
		const id = frameId(groupId);
		const { x, y, width, height } = group.bounds;
		positions.set(id, { x, y });
		const prev = before.get(id);
		const data: FrameData = { groupId, title: group.title, color: group.color ?? null, bypass: group.bypass === true, members: members.get(groupId) ?? 0 };
		const sameData = prev && Object.keys(data).every((key) => prev.data[key] === data[key as keyof FrameData]);
		const position = prev?.dragging ? prev.position : { x, y };
		if (prev && sameData && prev.position.x === position.x && prev.position.y === position.y && prev.width === width && prev.height === height && prev.draggable === !readonly) {
			return prev;
		}
		return {
			...prev,
			id,
			type: 'frame',
			position,
			width,
			height,
			zIndex: FRAME_Z,
			draggable: !readonly,
			dragHandle: '.frame-title',
			selectable: true,
			connectable: false,
			data: sameData ? prev.data : data
		};
	});
	return { frames, positions };
}

/** What a frame may do (GroupFrame.svelte), from the canvas. */
export interface FrameActions {
	readonly editable: boolean;
	/** The group whose title is being edited (a double-click, the menu's Rename, F2). */
	renaming: string | null;
	rename(groupId: string, title: string): void;
	/** A resize began (the frame's position may change under the pointer: not a move). */
	resizeStart(groupId: string): void;
	/** A resize ended: the frame's new bounds. */
	resized(groupId: string, bounds: Bounds): void;
}

const KEY = Symbol('frame actions');
export const setFrameActions = (actions: FrameActions) => setContext(KEY, actions);
export const getFrameActions = () => getContext<FrameActions | undefined>(KEY);
