"""Accounts: the life of a person's account (first admin, registration, guests and their claim, profile, delete),
with the personal workspace each account gets; signing in and out. Who a caller is (sessions, tokens,
passwords) is auth/'s; accounts build on it and on workspaces/."""
