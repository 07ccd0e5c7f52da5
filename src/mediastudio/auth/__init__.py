"""Who a caller is: users, passwords, browser sessions, API tokens, the identity of a request or socket, rate
limits and the sign-in policy. The life of an account (registration, guests, delete) is accounts/."""
