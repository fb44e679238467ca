//! Dataset versions: a content hash of the normalized data from per-column chunk hashes.
