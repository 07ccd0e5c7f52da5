"""The system: health and versions, and the GPU probe (a subprocess, so torch never loads in the server)."""
