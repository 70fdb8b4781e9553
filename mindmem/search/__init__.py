"""Search: the whoosh index kept in step with commits, recall, and the block graph."""
