"""The HTTP/WebSocket edge: which Host names the studio answers to, and the security headers of every answer."""
