/**
 * What a link's reroute point (RerouteEdge.svelte) needs of the canvas: whether it may be moved, moving it
 * (a drag is one undo step: `hold` … `release`), and taking it away.
 */
import { getContext, setContext } from 'svelte';
import type { Point } from '$lib/collab/model';

export interface Reroutes {
	readonly editable: boolean;
	move(edgeKey: string, to: Point): void;
	remove(edgeKey: string): void;
	hold(): void;
	release(): void;
}

const KEY = Symbol('reroutes');

export const setReroutes = (reroutes: Reroutes): void => void setContext(KEY, reroutes);
export const getReroutes = (): Reroutes | undefined => getContext<Reroutes | undefined>(KEY);
