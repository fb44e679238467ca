//! Bias checks before training: label balance and representation of sensitive groups.
