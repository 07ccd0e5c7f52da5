/**
 * Models beyond the list of installed ones (`$lib/api/engine.ts`): the catalog of recommended models with
 * each one's state here, downloading one (a task), removing one, and which projects used each.
 */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type CatalogItem = components['schemas']['CatalogItem'];
export type Catalog = components['schemas']['CatalogOut'];
export type ModelUsage = components['schemas']['ModelUsage'];
export type Usage = components['schemas']['UsageOut'];
export type ModelAdded = components['schemas']['ModelAdded'];
export type LoraFile = components['schemas']['LoraOut'];
export type VaeFolder = components['schemas']['VaeOut'];
export type IpAdapterFile = components['schemas']['IpAdapterOut'];
export type ControlNetFolder = components['schemas']['ControlNetOut'];

export function fetchCatalog(): Promise<Result<Catalog>> {
	return settle(api.GET('/api/v1/models/catalog', { cache: 'no-store' }));
}

/** Which of the caller's projects used each model (only projects they may open are counted). */
export function fetchUsage(): Promise<Result<Usage>> {
	return settle(api.GET('/api/v1/models/usage', { cache: 'no-store' }));
}

/** Administrators: downloads a catalog entry as a task (again after a cancel or failure: it resumes). */
export function downloadCatalogModel(id: string): Promise<Result<ModelAdded>> {
	return settle(api.POST('/api/v1/models', { body: { catalog: id } }));
}

/** Administrators: removes an installed model (a folder it was linked from is left alone). */
export function removeModel(name: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/models/{name}', { params: { path: { name } } }));
}
export type Recommended = components['schemas']['Recommended'];

/** The LoRA files of the data folder's loras/ (what a LoRA node picks from). */
export function fetchLoras(): Promise<Result<{ items: LoraFile[] }>> {
	return settle(api.GET('/api/v1/models/loras', { cache: 'no-store' }));
}

/** The VAE folders of the data folder's models/ (what a picture node's `vae` picks from). */
export function fetchVaes(): Promise<Result<{ items: VaeFolder[] }>> {
	return settle(api.GET('/api/v1/models/vaes', { cache: 'no-store' }));
}

/** The IP-Adapters of the data folder's ipadapters/ (what an IP-Adapter node picks from). */
export function fetchIpAdapters(): Promise<Result<{ items: IpAdapterFile[] }>> {
	return settle(api.GET('/api/v1/models/ipadapters', { cache: 'no-store' }));
}

/** The ControlNet folders of the data folder's models/, each with the base it fits (what a ControlNet node picks from). */
export function fetchControlNets(): Promise<Result<{ items: ControlNetFolder[] }>> {
	return settle(api.GET('/api/v1/models/controlnets', { cache: 'no-store' }));
}
