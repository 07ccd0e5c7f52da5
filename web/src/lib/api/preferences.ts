/** What the studio remembers per person on the server: where they are in the guided tour. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Preferences = components['schemas']['PreferencesOut'];
export type PreferencesPatch = components['schemas']['PreferencesPatch'];
export type TourStatus = Preferences['tour_status'];

export function fetchPreferences(): Promise<Result<Preferences>> {
	return settle(api.GET('/api/v1/auth/me/preferences', { headers: { Accept: 'application/json' }, cache: 'no-store' }));
}

export function updatePreferences(body: PreferencesPatch): Promise<Result<Preferences>> {
	return settle(api.PATCH('/api/v1/auth/me/preferences', { body }));
}
