/**
 * The palette a node can be coloured from (the scene stores the name; `graph/model.py` on the server knows the
 * same names). Each shade is the background of the node's title bar, under the title's light text: dark
 * enough for that text to keep WCAG's 4.5:1 contrast (checked in colors.test.ts).
 */
import type { NodeColor } from '$lib/collab/model';

export const NODE_COLOR_SHADES: Record<NodeColor, { shade: string; label: string }> = {
	red: { shade: '#9b2226', label: 'Red' },
	orange: { shade: '#9a4a12', label: 'Orange' },
	yellow: { shade: '#7a5d0c', label: 'Yellow' },
	green: { shade: '#23683a', label: 'Green' },
	teal: { shade: '#13625e', label: 'Teal' },
	blue: { shade: '#2647a8', label: 'Blue' },
	purple: { shade: '#6a2aa0', label: 'Purple' },
	pink: { shade: '#962a5e', label: 'Pink' }
};

/** The title's text colour (app.css's --color-fg-strong). */
export const TITLE_TEXT = '#f1f3f7';

function luminance(hex: string): number {
	const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
	return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG's contrast ratio of two #rrggbb colours. */
export function contrast(a: string, b: string): number {
	const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
	return (light! + 0.05) / (dark! + 0.05);
}
