"""Per-role limits set by administrators: runs waiting or running at once, GPU minutes a day, storage."""
