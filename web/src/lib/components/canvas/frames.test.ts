import { describe, expect, it } from 'vitest';
import { FRAME_PADDING, FRAME_Z, frameAround, frameAt, frameId, groupOfFrame, grownToHold, inFrame, reconcileFrames } from './frames';

describe('frames', () => {
	it('frames nodes with room for the title bar', () => {
		const bounds = frameAround([
			{ x: 100, y: 100, width: 200, height: 80 },
			{ x: 400, y: 300, width: 100, height: 50 }
		]);
		expect(bounds).toEqual({
			x: 100 - FRAME_PADDING.side,
			y: 100 - FRAME_PADDING.top,
			width: 400 + 2 * FRAME_PADDING.side,
			height: 250 + FRAME_PADDING.top + FRAME_PADDING.bottom
		});
	});

	it('puts a node in the smallest frame its centre lies in', () => {
		const frames = { big: { x: 0, y: 0, width: 1000, height: 1000 }, small: { x: 100, y: 100, width: 300, height: 300 } };
		expect(frameAt({ x: 150, y: 150, width: 100, height: 50 }, frames)).toBe('small');
		expect(frameAt({ x: 600, y: 600, width: 100, height: 50 }, frames)).toBe('big');
		expect(frameAt({ x: 2000, y: 0, width: 100, height: 50 }, frames)).toBeNull();
		expect(inFrame({ x: 950, y: 0, width: 100, height: 50 }, frames.big)).toBe(true); // centre at 1000: on the edge
	});

	it('grows a frame to hold a node dropped over its edge, never shrinking it', () => {
		const frame = { x: 0, y: 0, width: 400, height: 300 };
		expect(grownToHold(frame, { x: 100, y: 100, width: 100, height: 50 })).toBeNull();
		expect(grownToHold(frame, { x: 350, y: 260, width: 100, height: 80 })).toEqual({
			x: 0,
			y: 0,
			width: 450 + FRAME_PADDING.side,
			height: 340 + FRAME_PADDING.bottom
		});
		expect(grownToHold(frame, { x: -30, y: 10, width: 100, height: 50 })).toEqual({
			x: -30 - FRAME_PADDING.side,
			y: 10 - FRAME_PADDING.top,
			width: 400 + 30 + FRAME_PADDING.side,
			height: 300 - 10 + FRAME_PADDING.top
		});
	});

	it('names frames apart from nodes', () => {
		expect(groupOfFrame(frameId('g_1'))).toBe('g_1');
		expect(groupOfFrame('n_1')).toBeNull();
	});

	it('gives back an unchanged frame as it was, under the nodes', () => {
		const groups = { g1: { title: 'Upscaling', bounds: { x: 10, y: 20, width: 300, height: 200 } } };
		const first = reconcileFrames([], groups, new Map([['g1', 2]]), false);
		const frame = first.frames[0]!;
		expect(frame).toMatchObject({ id: 'group:g1', type: 'frame', position: { x: 10, y: 20 }, width: 300, height: 200, zIndex: FRAME_Z });
		expect(frame.data).toMatchObject({ title: 'Upscaling', members: 2, bypass: false, color: null });
		expect(reconcileFrames(first.frames, groups, new Map([['g1', 2]]), false).frames[0]).toBe(frame);
		const renamed = reconcileFrames(first.frames, { g1: { ...groups.g1, title: 'Bigger' } }, new Map([['g1', 2]]), false);
		expect(renamed.frames[0]!.data.title).toBe('Bigger');
		const dragged = reconcileFrames([{ ...frame, dragging: true, position: { x: 99, y: 99 } }], groups, new Map(), false);
		expect(dragged.frames[0]!.position).toEqual({ x: 99, y: 99 }); // the user's drag wins over the echo
	});
});
