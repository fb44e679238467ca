//! Metrics, splits and cross-validation; no IO.
