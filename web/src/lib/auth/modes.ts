/** Who the studio is for: the three setup modes as the setup page and Server settings show them. */
import type { AuthConfig } from '$lib/api/auth';

export type StudioMode = NonNullable<AuthConfig['mode']>;

export interface ModeCard {
	mode: StudioMode;
	title: string;
	/** One line: who can reach it, registration, guests. */
	line: string;
}

export const MODE_CARDS: ModeCard[] = [
	{
		mode: 'solo',
		title: 'Just me on this machine',
		line: 'Only this computer opens it. Nobody registers; no guests.'
	},
	{
		mode: 'team',
		title: 'My team on our network',
		line: 'Your network reaches it. People join by an invitation link or an account you make; no guests.'
	},
	{
		mode: 'class',
		title: 'A class or open studio',
		line: 'Your network reaches it. Anyone registers, or tries it as a guest within the guest limits.'
	}
];

export function modeTitle(mode: StudioMode): string {
	return MODE_CARDS.find((card) => card.mode === mode)?.title ?? mode;
}

/**
 * What to tell about where the server listens, for `mode` picked (null: nothing to tell). Team and class need
 * others to reach it; a solo studio listening beyond this machine shows its login page to the network.
 */
export function reachNote(
	mode: StudioMode | null,
	config: Pick<AuthConfig, 'listens_beyond_loopback'> | null
): string | null {
	if (!mode || !config) return null;
	if (mode !== 'solo' && !config.listens_beyond_loopback)
		return 'Others cannot reach this studio yet: it listens on this machine only. Start it with mediastudio serve --host 0.0.0.0 to serve your network.';
	if (mode === 'solo' && config.listens_beyond_loopback)
		return 'This server was started to listen beyond this machine (--host): others can open its login page, though nobody can register or try it as a guest. Start it without --host to keep it on this machine.';
	return null;
}
