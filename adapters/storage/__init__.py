"""Document storage: content-addressed, encrypted blobs behind a small interface."""
