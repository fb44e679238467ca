//! The model bundle: one checksummed file holding everything needed to predict.
