/**
 * The one notice of a batch of uploads (every file picked or dropped while others were still going up):
 * "Uploading 5 files… 3 done" while they go, then "Uploaded 5 files", or what failed.
 */
import type { Toast } from './toasts.svelte';

export const UPLOAD_TOAST = 'uploads';

type UploadState = 'waiting' | 'uploading' | 'processing' | 'done' | 'failed';

const files = (count: number) => `${count} file${count === 1 ? '' : 's'}`;

/** The toast for uploads in these states; null for none. */
export function uploadNotice(states: readonly UploadState[]): Omit<Toast, 'id'> | null {
	const total = states.length;
	if (!total) return null;
	const done = states.filter((state) => state === 'done').length;
	const failed = states.filter((state) => state === 'failed').length;
	const key = UPLOAD_TOAST;
	if (done + failed < total) {
		const failures = failed ? `, ${failed} failed` : '';
		return { key, sticky: true, tone: 'info', title: `Uploading ${files(total)}… ${done} done${failures}` };
	}
	if (!failed) return { key, tone: 'success', title: total === 1 ? 'Uploaded 1 file' : `Uploaded ${files(total)}` };
	return {
		key,
		tone: 'error',
		title: done ? `Uploaded ${done} of ${files(total)}` : `${files(total)} could not be uploaded`,
		detail: done ? `${files(failed)} could not be uploaded.` : undefined,
		hint: 'The upload queue in the Asset Browser says why; retry from there.'
	};
}
