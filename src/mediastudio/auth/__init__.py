"""Identity: users, passwords, browser sessions, API tokens, guests, rate limits."""
