import { describe, expect, it } from 'vitest';
import { sameWork, type Graph } from './scenes';

const graph = (bypass?: boolean): Graph => ({
	nodes: { a: { type: 'upscale', title: 'Bigger', position: { x: 0, y: 0 }, params: { factor: 2 }, bypass: false, group: 'g1' } },
	edges: {},
	groups: { g1: { title: 'Upscaling', bounds: { x: 0, y: 0, width: 300, height: 200 }, ...(bypass ? { bypass } : {}) } }
});

describe('sameWork', () => {
	it('tells a graph whose group was bypassed from the one that made a picture', () => {
		expect(sameWork(graph(), graph())).toBe(true);
		expect(sameWork(graph(), graph(true))).toBe(false);
		const renamed = graph();
		renamed.groups!['g1']!.title = 'Other';
		renamed.groups!['g1']!.bounds.x = 500;
		expect(sameWork(graph(), renamed)).toBe(true); // a frame's look computes nothing
	});
});
