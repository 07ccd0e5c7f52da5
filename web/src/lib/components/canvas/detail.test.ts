import { describe, expect, it } from 'vitest';
import type { InternalNode } from '@xyflow/svelte';
import { farCardOf, isFar, FAR_ZOOM } from './detail';
import type { PortView } from './flow';

const port = (name: string, type = 'text'): PortView => ({
	name,
	type,
	required: true,
	description: '',
	connected: false,
	fallback: null,
	fallbackFilled: false
});

type Bounds = { id: string; x: number; y: number };
const measured = (width: number, height: number, target: Bounds[] | null, source: Bounds[] | null) =>
	({
		measured: { width, height },
		internals: {
			handleBounds: {
				target: target?.map((b) => ({ ...b, width: 9, height: 9, nodeId: 'n', type: 'target', position: 'left' })) ?? null,
				source: source?.map((b) => ({ ...b, width: 9, height: 9, nodeId: 'n', type: 'source', position: 'right' })) ?? null
			}
		}
	}) as unknown as InternalNode;

describe('isFar', () => {
	it('is far below the threshold only', () => {
		expect(isFar(0.1)).toBe(true);
		expect(isFar(FAR_ZOOM - 0.01)).toBe(true);
		expect(isFar(FAR_ZOOM)).toBe(false);
		expect(isFar(1)).toBe(false);
	});
});

describe('farCardOf', () => {
	it("keeps the full card's size and puts each port's handle where it was measured", () => {
		const node = measured(216, 163, [{ id: 'prompt', x: -4.5, y: 60 }, { id: 'seed', x: -4.5, y: 80 }], [{ id: 'image', x: 211.5, y: 60 }]);
		const card = farCardOf(node, [port('prompt'), port('seed', 'int')], [port('image', 'image')]);
		expect(card).toEqual({
			width: 216,
			height: 163,
			handles: [
				{ id: 'prompt', type: 'target', x: -4.5, y: 60, portType: 'text' },
				{ id: 'seed', type: 'target', x: -4.5, y: 80, portType: 'int' },
				{ id: 'image', type: 'source', x: 211.5, y: 60, portType: 'image' }
			]
		});
	});

	it('a node with no inputs (Svelte Flow measured none) still gets its card', () => {
		const card = farCardOf(measured(216, 103, null, [{ id: 'text', x: 211.5, y: 56 }]), [], [port('text')]);
		expect(card?.handles).toEqual([{ id: 'text', type: 'source', x: 211.5, y: 56, portType: 'text' }]);
	});

	it('a node not measured yet is drawn in full', () => {
		expect(farCardOf(undefined, [], [port('text')])).toBeNull();
		expect(farCardOf(measured(0, 0, null, [{ id: 'text', x: 1, y: 1 }]), [], [port('text')])).toBeNull();
		const unmeasured = { measured: { width: 216, height: 103 }, internals: { handleBounds: undefined } } as unknown as InternalNode;
		expect(farCardOf(unmeasured, [], [port('text')])).toBeNull();
	});

	it('a node whose ports are not the measured ones (an edge to a new port) is drawn in full', () => {
		const node = measured(216, 163, [{ id: 'prompt', x: -4.5, y: 60 }], [{ id: 'image', x: 211.5, y: 60 }]);
		expect(farCardOf(node, [port('prompt'), port('seed')], [port('image')])).toBeNull();
		expect(farCardOf(node, [port('negative')], [port('image')])).toBeNull();
		expect(farCardOf(node, [port('prompt')], [])).toBeNull();
	});
});
