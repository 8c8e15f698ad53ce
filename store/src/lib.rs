pub use sea_orm;
