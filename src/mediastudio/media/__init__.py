"""Media: the content-addressed blob store, assets, uploads, thumbnails."""
