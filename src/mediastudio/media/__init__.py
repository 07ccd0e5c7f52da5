"""Media: a project's files as assets: uploads (streamed into the blob store), probing, previews, the storage
quota, and cleaning up what a failed write left behind."""
