/**
 * Groups in the scene's Y document, as the server's `collab/document.py` holds them: `groups`: id → Y.Map {title,
 * bounds: Y.Map {x, y, width, height}, color?, bypass?}. A node joins a group by naming it in its own `group`
 * field, so a node is in one group at most, and deleting a node takes it out of its group with nothing else to
 * tidy. Read as leniently as the server reads them: a colour off the palette is none, a frame is kept on the
 * canvas and at least FRAME_MIN on a side, a title is cut to TITLE_MAX.
 */
import * as Y from 'yjs';
import type { Bounds, GraphGroup } from '$lib/api/scenes';
import { groupsOf, ID_PATTERN, NODE_COLORS, nodesOf, type NodeColor } from './model';

export const GROUP_TITLE = 'Group';
export const TITLE_MAX = 120;
export const FRAME_MIN = 40;
const COORDINATE_MAX = 1_000_000;

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** A frame within the canvas's bounds, whole numbers, each side at least FRAME_MIN. */
export function fitBounds(bounds: Partial<Bounds>): Bounds {
	const axis = (value: unknown) => Math.round(clamp(num(value), -COORDINATE_MAX, COORDINATE_MAX));
	const side = (value: unknown) => Math.round(clamp(num(value), FRAME_MIN, 2 * COORDINATE_MAX));
	return { x: axis(bounds.x), y: axis(bounds.y), width: side(bounds.width), height: side(bounds.height) };
}

export function readGroup(group: Y.Map<unknown>): GraphGroup {
	const title = group.get('title');
	const bounds = group.get('bounds');
	const read: GraphGroup = {
		title: (typeof title === 'string' && title ? title : GROUP_TITLE).slice(0, TITLE_MAX),
		bounds: fitBounds(bounds instanceof Y.Map ? (bounds.toJSON() as Partial<Bounds>) : {})
	};
	const color = group.get('color');
	if (NODE_COLORS.includes(color as NodeColor)) read.color = color as NodeColor;
	if (group.get('bypass') === true) read.bypass = true;
	return read;
}

export function readGroups(doc: Y.Doc): Record<string, GraphGroup> {
	const groups: Record<string, GraphGroup> = {};
	groupsOf(doc).forEach((group, id) => {
		if (group instanceof Y.Map && ID_PATTERN.test(id)) groups[id] = readGroup(group);
	});
	return groups;
}

/** A fresh group id, unlike any in the document. */
export function newGroupId(doc: Y.Doc): string {
	const groups = groupsOf(doc);
	let id = '';
	do id = `g_${Math.random().toString(16).slice(2, 10)}`;
	while (groups.has(id));
	return id;
}

// -- writing (call inside doc.transact) ----------------------------------------------------------------

export function insertGroup(doc: Y.Doc, id: string, group: GraphGroup): void {
	const entry = new Y.Map<unknown>();
	groupsOf(doc).set(id, entry); // attached first, as a node is
	entry.set('title', (group.title || GROUP_TITLE).slice(0, TITLE_MAX));
	entry.set('bounds', new Y.Map<number>());
	setBounds(doc, id, group.bounds);
	if (group.color && NODE_COLORS.includes(group.color)) entry.set('color', group.color);
	if (group.bypass === true) entry.set('bypass', true);
}

/** Moves or resizes a group's frame (each side changed in place, so a move and a resize by two people merge). */
export function setBounds(doc: Y.Doc, id: string, to: Partial<Bounds>): boolean {
	const group = groupsOf(doc).get(id);
	if (!(group instanceof Y.Map)) return false;
	let bounds = group.get('bounds');
	if (!(bounds instanceof Y.Map)) {
		bounds = new Y.Map<number>();
		group.set('bounds', bounds);
	}
	const target = bounds as Y.Map<number>;
	const fitted = fitBounds({ ...(target.toJSON() as Partial<Bounds>), ...to });
	let changed = false;
	for (const side of ['x', 'y', 'width', 'height'] as const) {
		if (target.get(side) !== fitted[side]) (target.set(side, fitted[side]), (changed = true));
	}
	return changed;
}

/** Sets (or, with null/false, unsets) a group's title, colour or bypass. */
export function setGroupField(doc: Y.Doc, id: string, field: 'title' | 'color' | 'bypass', value: string | true | null): boolean {
	const group = groupsOf(doc).get(id);
	if (!(group instanceof Y.Map)) return false;
	const wanted = field === 'title' && typeof value === 'string' ? value.trim().slice(0, TITLE_MAX) || GROUP_TITLE : value;
	if ((group.get(field) ?? null) === wanted) return false;
	if (wanted === null) group.delete(field);
	else group.set(field, wanted);
	return true;
}

/** Puts a node in a group, or (null) in none. */
export function setNodeGroup(doc: Y.Doc, nodeId: string, groupId: string | null): boolean {
	const node = nodesOf(doc).get(nodeId);
	if (!(node instanceof Y.Map) || (node.get('group') ?? null) === groupId) return false;
	if (groupId === null) node.delete('group');
	else node.set('group', groupId);
	return true;
}

/** Removes a group; its nodes stay, in no group (deleting them too is `removeElements` in the same step). */
export function removeGroup(doc: Y.Doc, id: string): void {
	nodesOf(doc).forEach((node, nodeId) => {
		if (node instanceof Y.Map && node.get('group') === id) setNodeGroup(doc, nodeId, null);
	});
	groupsOf(doc).delete(id);
}
