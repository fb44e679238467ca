//! Validation rules: expectations read from TOML, checked lazily over a frame.
