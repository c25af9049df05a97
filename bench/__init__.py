"""`make bench`: this project against a bare Temporal workflow of the same shape."""
