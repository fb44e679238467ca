pub mod evaluate;
pub mod predict;
pub mod runs;
pub mod schema;
pub mod train;
