"""The audit log: who did what, when, from where (administrators read it; nothing edits it)."""
