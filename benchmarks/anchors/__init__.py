"""Reference apps the sections measure beside the studio (same uvicorn settings as `mediastudio serve`)."""
