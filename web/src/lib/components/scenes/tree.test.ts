import { describe, expect, it } from 'vitest';
import type { Scene } from '$lib/api/scenes';
import { dropOrder, PROJECT_KEY, sceneKey, shotKey, visibleRows, type TreeRow } from './tree';

function scene(id: string, shots: string[] = []): Scene {
	return { id, name: `Scene ${id}`, node_count: shots.length, order: 0, shots: shots.map((node_id) => ({ node_id, name: `Shot ${node_id}` })) };
}

const keys = (rows: TreeRow[]) => rows.map((row) => row.key);

describe('keys', () => {
	it('name scenes and shots apart, a shot by its scene and node', () => {
		expect(sceneKey('s1')).toBe('scene:s1');
		expect(shotKey('s1', 'n_1')).toBe('shot:s1:n_1');
		expect(shotKey('s1', 'n_1')).not.toBe(shotKey('s2', 'n_1'));
	});
});

describe('visibleRows', () => {
	const scenes = [scene('a', ['n1', 'n2']), scene('b'), scene('c', ['n3'])];

	it('an empty project is one row that cannot expand', () => {
		const rows = visibleRows('Empty', [], new Set());
		expect(rows).toEqual([
			{ kind: 'project', key: PROJECT_KEY, level: 1, label: 'Empty', expandable: false, parent: null, posinset: 1, setsize: 1 }
		]);
	});

	it('lists project, then each scene followed by its shots, in order', () => {
		const rows = visibleRows('Film', scenes, new Set());
		expect(keys(rows)).toEqual([
			PROJECT_KEY,
			'scene:a',
			'shot:a:n1',
			'shot:a:n2',
			'scene:b',
			'scene:c',
			'shot:c:n3'
		]);
		expect(rows.map((row) => row.level)).toEqual([1, 2, 3, 3, 2, 2, 3]);
		expect(rows[0]).toMatchObject({ label: 'Film', expandable: true });
	});

	it('gives each row its parent, position in its set and set size (for aria-posinset / aria-setsize)', () => {
		const rows = visibleRows('Film', scenes, new Set());
		const byKey = new Map(rows.map((row) => [row.key, row]));
		expect(byKey.get('scene:b')).toMatchObject({ parent: PROJECT_KEY, posinset: 2, setsize: 3, expandable: false, label: 'Scene b' });
		expect(byKey.get('scene:a')).toMatchObject({ posinset: 1, setsize: 3, expandable: true });
		expect(byKey.get('shot:a:n2')).toMatchObject({ parent: 'scene:a', posinset: 2, setsize: 2, expandable: false, label: 'Shot n2' });
		expect(byKey.get('shot:c:n3')).toMatchObject({ parent: 'scene:c', posinset: 1, setsize: 1 });
		const shot = byKey.get('shot:c:n3');
		expect(shot?.kind === 'shot' && shot.scene.id === 'c' && shot.shot.node_id === 'n3').toBe(true);
	});

	it('a collapsed project hides everything below it', () => {
		expect(keys(visibleRows('Film', scenes, new Set([PROJECT_KEY])))).toEqual([PROJECT_KEY]);
	});

	it('a collapsed scene hides only its own shots', () => {
		const rows = visibleRows('Film', scenes, new Set([sceneKey('a')]));
		expect(keys(rows)).toEqual([PROJECT_KEY, 'scene:a', 'scene:b', 'scene:c', 'shot:c:n3']);
		// Set positions still count every sibling, seen or not.
		expect(rows.find((row) => row.key === 'scene:c')).toMatchObject({ posinset: 3, setsize: 3 });
	});

	it('keys of things that are not rows (a collapsed shot, an unknown key) change nothing', () => {
		const all = keys(visibleRows('Film', scenes, new Set()));
		expect(keys(visibleRows('Film', scenes, new Set([shotKey('a', 'n1'), 'scene:zzz'])))).toEqual(all);
	});
});

describe('dropOrder', () => {
	const order = ['a', 'b', 'c', 'd'];

	/** The order after moving `dragged` to the index dropOrder answers (as the server does it). */
	function moved(list: string[], dragged: string, index: number): string[] {
		const rest = list.filter((id) => id !== dragged);
		rest.splice(index, 0, dragged);
		return rest;
	}

	it('moves down: before and after a later scene', () => {
		expect(dropOrder(order, 'a', 'c', false)).toBe(1);
		expect(dropOrder(order, 'a', 'c', true)).toBe(2);
		expect(dropOrder(order, 'a', 'd', true)).toBe(3);
	});

	it('moves up: before and after an earlier scene', () => {
		expect(dropOrder(order, 'd', 'a', false)).toBe(0);
		expect(dropOrder(order, 'd', 'a', true)).toBe(1);
		expect(dropOrder(order, 'c', 'b', false)).toBe(1);
	});

	it('a drop that leaves the order as it is answers null', () => {
		expect(dropOrder(order, 'b', 'b', false)).toBeNull();
		expect(dropOrder(order, 'b', 'b', true)).toBeNull();
		expect(dropOrder(order, 'b', 'c', false)).toBeNull(); // before its next sibling: where it is
		expect(dropOrder(order, 'b', 'a', true)).toBeNull(); // after its previous sibling: where it is
	});

	it('unknown scenes answer null', () => {
		expect(dropOrder(order, 'x', 'a', false)).toBeNull();
		expect(dropOrder(order, 'a', 'x', true)).toBeNull();
		expect(dropOrder(order, 'c', 'x', false)).toBeNull();
		expect(dropOrder(order, 'c', 'x', true)).toBeNull();
		expect(dropOrder([], 'a', 'a', false)).toBeNull();
	});

	it('every drop puts the scene right before or after its target', () => {
		for (const dragged of order) {
			for (const target of order) {
				if (dragged === target) continue;
				for (const after of [false, true]) {
					const index = dropOrder(order, dragged, target, after);
					const result = index === null ? order : moved(order, dragged, index);
					const expected = result.indexOf(target) + (after ? 1 : -1);
					expect(result.indexOf(dragged), `${dragged} ${after ? 'after' : 'before'} ${target}`).toBe(expected);
					if (index !== null) expect(result).not.toEqual(order);
				}
			}
		}
	});
});
