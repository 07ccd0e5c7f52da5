/** The minimap's geometry (CanvasMiniMap.svelte): what part of the graph it shows, as Svelte Flow's own did. */

export interface Box {
	x: number;
	y: number;
	width: number;
	height: number;
}

/** The graph area a minimap of `width` × `height` pixels shows: its top-left corner and graph units per pixel. */
export interface MinimapFrame {
	x: number;
	y: number;
	scale: number;
}

/** The nodes' bounds and the view together, centred in the minimap with a 5-pixel margin: the view's mark is always in it. */
export function minimapFrame(boxes: readonly Box[], view: Box, width: number, height: number): MinimapFrame {
	let [left, top, right, bottom] = [view.x, view.y, view.x + view.width, view.y + view.height];
	for (const box of boxes) {
		left = Math.min(left, box.x);
		top = Math.min(top, box.y);
		right = Math.max(right, box.x + box.width);
		bottom = Math.max(bottom, box.y + box.height);
	}
	const scale = Math.max((right - left) / (width - 10), (bottom - top) / (height - 10)) || 1;
	return { x: (left + right) / 2 - (width * scale) / 2, y: (top + bottom) / 2 - (height * scale) / 2, scale };
}
