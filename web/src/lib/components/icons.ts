/** Stroke icons on a 24×24 grid (drawn for Mediastudio), one `d` string per icon. */
export const ICONS = {
	'chevrons-left': 'M11 17l-5-5 5-5M18 17l-5-5 5-5',
	'chevrons-right': 'M13 17l5-5-5-5M6 17l5-5-5-5',
	'sidebar-left': 'M4 4h16a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zM9 4v16',
	'sidebar-right': 'M4 4h16a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zM15 4v16',
	folder: 'M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z',
	clapper:
		'M4 10h16v9a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1zM4 10l-.6-3.4a1 1 0 0 1 .8-1.2l13.8-2.3a1 1 0 0 1 1.2.8L19.7 6M8.5 5l2 4.3M13.5 4.2l2 4.3',
	image: 'M5 4h14a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zM21 15l-5-5L6 20M8 9.5a1.5 1.5 0 1 0 3 0 1.5 1.5 0 1 0-3 0',
	video: 'M4 5h16a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zM10 9l5 3-5 3z',
	audio: 'M3 12h1M7 9v6M11 5v14M15 8v8M19 11v2',
	model: 'M12 3l8 4.5v9L12 21l-8-4.5v-9zM12 12l8-4.5M12 12v9M12 12L4 7.5',
	reference: 'M6 4h12v17l-6-4-6 4z',
	generated:
		'M11 3l1.8 5.2L18 10l-5.2 1.8L11 17l-1.8-5.2L4 10l5.2-1.8zM18.5 14.5l.8 2.2 2.2.8-2.2.8-.8 2.2-.8-2.2-2.2-.8 2.2-.8z',
	search: 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4',
	sliders: 'M4 6h9M17 6h3M15 4v4M4 12h3M11 12h9M9 10v4M4 18h11M19 18h1M17 16v4',
	activity: 'M3 12h4l3-8 4 16 3-8h4',
	graph: 'M4 4h5v5H4zM15 15h5v5h-5zM15 4h5v5h-5zM9 6.5h6M17.5 9v6M6.5 9v6a2 2 0 0 0 2 2H15',
	upload: 'M12 15V4M7 9l5-5 5 5M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4',
	browser: 'M4 4h6v16H4zM14 4h6v7h-6zM14 15h6v5h-6z'
} as const;

export type IconName = keyof typeof ICONS;
