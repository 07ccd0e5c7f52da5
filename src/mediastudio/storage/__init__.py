"""Storage of the kernel: the content-addressed blob store, what a file is from its bytes (sniffing), and
answering HTTP with a stored file (ranges)."""
