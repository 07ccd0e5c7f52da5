"""Webhooks: registrations, signed deliveries with retries (task events of a user's projects)."""
