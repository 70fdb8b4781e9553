"""The store: blocks, the git repository they live in, snapshots, settings."""
