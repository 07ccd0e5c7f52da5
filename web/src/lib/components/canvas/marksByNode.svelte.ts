/**
 * Other people's marks, followed node by node. Their selections change many times a second while they work
 * (each click), and the marks of the whole canvas come as one map: a node that read the map would be worked
 * out again at each change of anyone's selection, all 300 of them for the two or three whose marks changed.
 * Each node reads its own entry here instead, and only the nodes whose entry changed are told.
 */
import type { NodeMarks } from './remote';

class Box {
	current = $state.raw<NodeMarks | undefined>();
	constructor(value: NodeMarks | undefined) {
		this.current = value;
	}
}

export class MarksByNode {
	#boxes = new Map<string, Box>();
	#shown: ReadonlyMap<string, NodeMarks> = new Map();

	/**
	 * Node `id`'s marks, as `.current` (undefined: no one's); a reader follows this node's alone. Not to be read
	 * in the `$derived` that calls this: Svelte does not follow state that a derived made while it ran.
	 */
	follow(id: string): { readonly current: NodeMarks | undefined } {
		let box = this.#boxes.get(id);
		if (!box) this.#boxes.set(id, (box = new Box(this.#shown.get(id))));
		return box;
	}

	/** Shows `marks` (from `marksOf`, which keeps the entry of a node whose marks did not change). */
	show(marks: ReadonlyMap<string, NodeMarks>): void {
		const before = this.#shown;
		if (marks === before) return;
		this.#shown = marks;
		for (const id of new Set([...before.keys(), ...marks.keys()])) {
			const box = this.#boxes.get(id);
			if (box && marks.get(id) !== before.get(id)) box.current = marks.get(id);
		}
	}
}

/** Marks that follow `source` (read in an effect of the component that calls this). */
export function followMarks(source: () => ReadonlyMap<string, NodeMarks>): MarksByNode {
	const marks = new MarksByNode();
	$effect.pre(() => marks.show(source()));
	return marks;
}
