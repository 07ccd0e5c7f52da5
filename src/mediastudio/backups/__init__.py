"""Backups of a data folder, taken beside a running studio, and restores of them (docs/backups.md)."""
