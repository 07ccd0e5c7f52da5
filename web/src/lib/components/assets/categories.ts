import type { AssetCategory } from '$lib/api/assets';
import type { IconName } from '../icons';

export const CATEGORIES: { id: AssetCategory; label: string; icon: IconName }[] = [
	{ id: 'image', label: 'Images', icon: 'image' },
	{ id: 'video', label: 'Video', icon: 'video' },
	{ id: 'audio', label: 'Audio', icon: 'audio' },
	{ id: 'model', label: 'Models', icon: 'model' },
	{ id: 'reference', label: 'References', icon: 'reference' },
	{ id: 'generated', label: 'Generated', icon: 'generated' }
];

export function categoryIcon(category: string): IconName {
	return CATEGORIES.find((c) => c.id === category)?.icon ?? 'folder';
}

/** "1.4 MB" */
export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	const units = ['KB', 'MB', 'GB', 'TB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit += 1;
	}
	return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** "1:05.3" or "0:04" */
export function formatDuration(seconds: number): string {
	const m = Math.floor(seconds / 60);
	const s = seconds - m * 60;
	return `${m}:${s < 10 ? '0' : ''}${s.toFixed(s % 1 ? 1 : 0)}`;
}
