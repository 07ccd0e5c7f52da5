import { describe, expect, it } from 'vitest';
import { uploadNotice } from './uploadNotice';

describe('uploadNotice', () => {
	it('counts the files of a batch while they go up, in one sticky notice', () => {
		expect(uploadNotice(['done', 'done', 'done', 'uploading', 'waiting'])).toMatchObject({
			key: 'uploads',
			sticky: true,
			tone: 'info',
			title: 'Uploading 5 files… 3 done'
		});
		expect(uploadNotice(['failed', 'processing'])?.title).toBe('Uploading 2 files… 0 done, 1 failed');
	});

	it('says the batch is done, or what failed, once every file is through', () => {
		expect(uploadNotice(['done', 'done', 'done', 'done', 'done'])).toMatchObject({ tone: 'success', title: 'Uploaded 5 files' });
		expect(uploadNotice(['done'])?.sticky).toBeFalsy();
		expect(uploadNotice(['done', 'failed', 'done'])).toMatchObject({ tone: 'error', title: 'Uploaded 2 of 3 files', detail: '1 file could not be uploaded.' });
		expect(uploadNotice(['failed'])).toMatchObject({ tone: 'error', title: '1 file could not be uploaded' });
		expect(uploadNotice([])).toBeNull();
	});
});
