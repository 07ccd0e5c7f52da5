/** The Project Browser's tree (project → scenes → shots) as the flat list of rows a keyboard walks. */
import type { Scene, Shot } from '$lib/api/scenes';

export type TreeRow =
	| { kind: 'project'; key: string; level: 1; label: string; expandable: boolean; parent: null; posinset: 1; setsize: 1 }
	| { kind: 'scene'; key: string; level: 2; label: string; expandable: boolean; parent: string; posinset: number; setsize: number; scene: Scene }
	| { kind: 'shot'; key: string; level: 3; label: string; expandable: false; parent: string; posinset: number; setsize: number; scene: Scene; shot: Shot };

export const PROJECT_KEY = 'project';

export function sceneKey(sceneId: string): string {
	return `scene:${sceneId}`;
}

export function shotKey(sceneId: string, nodeId: string): string {
	return `shot:${sceneId}:${nodeId}`;
}

/** Every row a user can reach now: children of collapsed rows are left out. */
export function visibleRows(projectName: string, scenes: Scene[], collapsed: ReadonlySet<string>): TreeRow[] {
	const rows: TreeRow[] = [
		{ kind: 'project', key: PROJECT_KEY, level: 1, label: projectName, expandable: scenes.length > 0, parent: null, posinset: 1, setsize: 1 }
	];
	if (collapsed.has(PROJECT_KEY)) return rows;
	scenes.forEach((scene, index) => {
		const key = sceneKey(scene.id);
		rows.push({
			kind: 'scene',
			key,
			level: 2,
			label: scene.name,
			expandable: scene.shots.length > 0,
			parent: PROJECT_KEY,
			posinset: index + 1,
			setsize: scenes.length,
			scene
		});
		if (collapsed.has(key)) return;
		scene.shots.forEach((shot, shotIndex) => {
			rows.push({
				kind: 'shot',
				key: shotKey(scene.id, shot.node_id),
				level: 3,
				label: shot.name,
				expandable: false,
				parent: key,
				posinset: shotIndex + 1,
				setsize: scene.shots.length,
				scene,
				shot
			});
		});
	});
	return rows;
}

/** The position a scene dropped before or after another one takes (0-based, as the API counts). */
export function dropOrder(order: string[], dragged: string, target: string, after: boolean): number | null {
	const from = order.indexOf(dragged);
	let to = order.indexOf(target);
	if (from < 0 || to < 0) return null;
	if (after) to += 1;
	if (from < to) to -= 1;
	return to === from ? null : to;
}
