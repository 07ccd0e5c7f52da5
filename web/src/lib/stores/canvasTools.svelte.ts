/**
 * On a narrow canvas (phones) the canvas's toolbar sits at its foot and may wrap onto more rows: its height
 * there, in pixels (0 where it sits in the top row, or is not shown), so that what floats above it (the
 * task pill and notifications, the no-model notice) stays clear of every button of it.
 */
export const canvasTools = $state({ footHeight: 0 });
