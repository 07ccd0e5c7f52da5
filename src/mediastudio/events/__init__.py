"""Events: the bus that carries what services announce, once their transaction commits (in process, or over
Redis between processes), and the signal that makes open sockets check their rights again. The socket that
streams events to clients is feed/."""
