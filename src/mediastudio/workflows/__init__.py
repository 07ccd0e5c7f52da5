"""Reusable graphs: a workspace's library of workflows, and graphs read from files (JSON, generated PNGs)."""
