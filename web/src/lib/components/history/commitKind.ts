/**
 * What the History list says of a commit: its kind in a word (a badge), and the line that leads it — the
 * label a person gave a version, what a restore brought back, or what changed.
 */
import type { Commit } from '$lib/api/history';
import type { IconName } from '../icons';

export type CommitKind = Commit['kind'];

interface KindInfo {
	name: string;
	icon: IconName;
}

const KINDS: Record<CommitKind, KindInfo> = {
	created: { name: 'Created', icon: 'plus' },
	edit: { name: 'Edit', icon: 'pencil' },
	version: { name: 'Version', icon: 'tag' },
	generate: { name: 'Generated', icon: 'image' },
	upload: { name: 'Upload', icon: 'upload' },
	asset: { name: 'Assets', icon: 'folder' },
	restore: { name: 'Restore', icon: 'restore' },
	import: { name: 'Import', icon: 'download' },
	scene: { name: 'Scenes', icon: 'storyboard' },
	settings: { name: 'Settings', icon: 'sliders' },
	recovered: { name: 'Recovered', icon: 'warning' },
	comment: { name: 'Comments', icon: 'comment' }
};

export function kindInfo(kind: CommitKind): KindInfo {
	return KINDS[kind] ?? KINDS.edit;
}

/** The commit's leading line: a version's label, a restore's source, else what changed. */
export function commitTitle(commit: Commit): string {
	if (commit.kind === 'version' && commit.label) return `“${commit.label}”`;
	if (commit.kind === 'restore') {
		const from = commit.restored_from ? commit.restored_from.slice(0, 7) : null;
		return from ? `Restored version ${from}` : commit.message;
	}
	if (commit.kind === 'created' || commit.kind === 'import' || commit.kind === 'recovered') return commit.message;
	return commit.summary;
}

/** The line under it: what changed, when the title did not say it already. */
export function commitDetail(commit: Commit): string | null {
	const title = commitTitle(commit);
	return title === commit.summary ? null : commit.summary;
}
