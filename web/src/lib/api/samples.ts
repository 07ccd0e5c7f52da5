/** Sample projects the studio ships: the list, and a copy of one as a new project of the caller's. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { Project } from './projects';
import type { components } from './schema';

export type Sample = components['schemas']['SampleOut'];

export async function listSamples(): Promise<Result<Sample[]>> {
	return settle<Sample[]>(api.GET('/api/v1/samples'));
}

/** A new project in `workspaceId` (default: the caller's own) holding the sample's scenes, media and history. */
export async function copySample(sampleId: string, workspaceId?: string): Promise<Result<Project>> {
	return settle<Project>(
		api.POST('/api/v1/samples/{sample_id}/copy', {
			params: { path: { sample_id: sampleId } },
			body: { workspace_id: workspaceId ?? null }
		})
	);
}
