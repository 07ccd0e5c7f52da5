/** What the studio's help shows: the sheet of keyboard shortcuts (`?`, or the account menu's Help). */
class Help {
	shortcutsOpen = $state(false);
}

export const help = new Help();
