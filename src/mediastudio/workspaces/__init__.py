"""Workspaces are tenants: memberships with roles, and the project roles they imply."""
