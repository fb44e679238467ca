//! Property tests of the kernels.
