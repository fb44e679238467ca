//! Tracking store: runs in SQLite, artifacts in a content-addressed directory.
