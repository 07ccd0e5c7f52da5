/**
 * The canvas's level of detail. Zoomed out below `FAR_ZOOM`, port names and summaries are too small to read
 * (11 px text drawn under 5.5 px), and drawing them for every node is most of what a pan or zoom of a big
 * graph costs (style, layout, paint and hit testing of every element, redrawn in software where there is no
 * GPU). There each node is drawn as a plain card: its frame, its title and its handles, nothing else.
 *
 * A plain card keeps the full card's size and puts each handle where the full card had it (as Svelte Flow
 * measured them), so the graph keeps its shape, every edge its ends, and nothing is measured again when the
 * detail changes. A node not measured yet, or whose ports are not the measured ones, stays a full card.
 */
import { getContext, setContext } from 'svelte';
import type { InternalNode } from '@xyflow/svelte';
import type { PortView } from './flow';
import { RemeasureQueue } from './remeasure';

/** Below this zoom nodes are drawn as plain cards. */
export const FAR_ZOOM = 0.5;

export const isFar = (zoom: number): boolean => zoom < FAR_ZOOM;

export interface CanvasDetail {
	/** The canvas is zoomed out below `FAR_ZOOM`. */
	readonly far: boolean;
}

/** What the nodes and the viewport's watcher get: the detail, and when a full card may be drawn to be measured. */
export interface CanvasDetailContext extends CanvasDetail {
	readonly remeasure: RemeasureQueue;
}

/** A handle of a plain card: where the full card had it, relative to the node's top-left corner. */
export interface CardHandle {
	id: string;
	type: 'source' | 'target';
	x: number;
	y: number;
	/** The port's type (the handle's colour). */
	portType: string;
}

/** A plain card: the full card's size and its handles. */
export interface FarCard {
	width: number;
	height: number;
	handles: CardHandle[];
}

type Measured = Pick<InternalNode, 'measured' | 'internals'>;

/**
 * The plain card of a node from Svelte Flow's measurement of its full card, or null (draw the full card) when
 * it was not measured yet or its ports are not the ones measured (an edge to a new port, another type).
 */
export function farCardOf(node: Measured | undefined, inputs: readonly PortView[], outputs: readonly PortView[]): FarCard | null {
	const width = node?.measured?.width;
	const height = node?.measured?.height;
	const bounds = node?.internals.handleBounds;
	if (!width || !height || !bounds) return null;
	const handles: CardHandle[] = [];
	const place = (ports: readonly PortView[], measured: readonly { id?: string | null; x: number; y: number }[] | null | undefined, type: CardHandle['type']) => {
		if ((measured?.length ?? 0) !== ports.length) return false;
		for (const port of ports) {
			const found = measured?.find((handle) => handle.id === port.name);
			if (!found) return false;
			handles.push({ id: port.name, type, x: found.x, y: found.y, portType: port.type });
		}
		return true;
	};
	if (!place(inputs, bounds.target, 'target') || !place(outputs, bounds.source, 'source')) return null;
	return { width, height, handles };
}

const KEY = Symbol('canvas detail');

export function setCanvasDetail(detail: CanvasDetail): CanvasDetailContext {
	const remeasure = new RemeasureQueue();
	return setContext(KEY, {
		get far() {
			return detail.far;
		},
		remeasure
	});
}

export function getCanvasDetail(): CanvasDetailContext | undefined {
	return getContext<CanvasDetailContext | undefined>(KEY);
}
