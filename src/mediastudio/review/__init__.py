"""The review board: a project's shots by scene with their status and picked take (docs/review.md)."""
