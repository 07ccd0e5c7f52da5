/**
 * The order of several assets on a node (an image sequence): by name by default, the way files sort on a
 * desktop (frame2 before frame10), whatever order they were picked in; a person may then reorder them,
 * and what they add afterwards goes at the end.
 */

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export type NameOf = (assetId: string) => string | undefined;

function compare(nameOf: NameOf): (a: string, b: string) => number {
	return (a, b) => collator.compare(nameOf(a) ?? a, nameOf(b) ?? b) || a.localeCompare(b);
}

export function sortByName(ids: string[], nameOf: NameOf): string[] {
	return [...ids].sort(compare(nameOf));
}

export function inNameOrder(ids: string[], nameOf: NameOf): boolean {
	const sorted = sortByName(ids, nameOf);
	return sorted.every((id, index) => id === ids[index]);
}

/** `ids` with `added` in: in name order while the list is in name order, else at the end. */
export function addInOrder(ids: string[], added: string, nameOf: NameOf): string[] {
	if (ids.includes(added)) return ids;
	return inNameOrder(ids, nameOf) ? sortByName([...ids, added], nameOf) : [...ids, added];
}

/** `ids` with the one at `index` moved by `by` places (kept inside the list). */
export function move(ids: string[], index: number, by: number): string[] {
	const to = Math.max(0, Math.min(ids.length - 1, index + by));
	if (index < 0 || index >= ids.length || to === index) return ids;
	const next = [...ids];
	next.splice(to, 0, ...next.splice(index, 1));
	return next;
}
