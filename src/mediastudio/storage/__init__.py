"""Storage of the kernel: the content-addressed blob store and answering HTTP with a stored file (ranges)."""
