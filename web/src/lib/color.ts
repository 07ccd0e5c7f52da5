/** Colours of people: names for the presence palette, and a stable palette colour for anyone. */

function hsl(hex: string): { h: number; s: number; l: number } | null {
	const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
	if (!match) return null;
	const [r, g, b] = match.slice(1).map((part) => parseInt(part, 16) / 255) as [number, number, number];
	const max = Math.max(r, g, b);
	const min = Math.min(r, g, b);
	const l = (max + min) / 2;
	const d = max - min;
	if (d === 0) return { h: 0, s: 0, l };
	const s = d / (1 - Math.abs(2 * l - 1));
	const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
	return { h: (h * 60 + 360) % 360, s, l };
}

/** Hue bands, each up to (not including) its bound in degrees. */
const HUES: [number, string][] = [
	[12, 'Red'],
	[35, 'Orange'],
	[50, 'Amber'],
	[70, 'Yellow'],
	[100, 'Lime'],
	[145, 'Green'],
	[165, 'Mint'],
	[185, 'Teal'],
	[220, 'Blue'],
	[250, 'Indigo'],
	[290, 'Purple'],
	[345, 'Pink'],
	[360, 'Red']
];

/** A colour's everyday name ("Teal", "Sky"), for labels read aloud; the hex code when it has none. */
export function colorName(hex: string): string {
	const c = hsl(hex);
	if (!c) return hex;
	if (c.s < 0.12) return 'Grey';
	if (c.h >= 12 && c.h < 40 && c.s < 0.5) return 'Brown';
	if (c.h >= 185 && c.h < 215 && c.l > 0.6) return 'Sky';
	return HUES.find(([bound]) => c.h < bound)?.[1] ?? hex;
}

/** The same palette colour for the same key (a user id, a name), for people whose colour is not known. */
export function colorFor(key: string, palette: readonly string[]): string {
	if (palette.length === 0) return '#3e63dd';
	let hash = 0;
	for (const char of key) hash = (hash * 31 + char.charCodeAt(0)) | 0;
	return palette[Math.abs(hash) % palette.length] ?? '#3e63dd';
}

function luminance(hex: string): number | null {
	const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
	if (!match) return null;
	const [r, g, b] = match.slice(1).map((part) => {
		const c = parseInt(part, 16) / 255;
		return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
	}) as [number, number, number];
	return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two `#rrggbb` colours (1 to 21); null if either is not one. */
export function contrast(a: string, b: string): number | null {
	const [x, y] = [luminance(a), luminance(b)];
	if (x === null || y === null) return null;
	return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/** Text colour for small text on `background`: white where it reads (4.5:1, WCAG AA), else the studio's near-black,
 * else black (one of white and black always reaches 4.58:1). */
export function inkOn(background: string): string {
	for (const ink of ['#ffffff', '#111318']) if ((contrast(ink, background) ?? 21) >= 4.5) return ink;
	return '#000000';
}
