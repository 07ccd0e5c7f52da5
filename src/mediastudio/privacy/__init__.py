"""Privacy: a person's data as one archive (a task), deleting an account with a choice for each of its projects,
and how long the studio keeps what it keeps (trash, guests, the audit log, task history, exports)."""
