//! Test utilities (the seed's rustok-test-utils): temporary databases on SQLite and
//! PostgreSQL, fixtures with deterministic ids, and a test app that drives the real action
//! queue and relay and captures the events they deliver.
#![allow(dead_code)]

pub mod app;
#[macro_use]
pub mod cli;
pub mod db;
pub mod fixtures;
pub mod tmux;
pub mod wait;

#[allow(unused_imports)]
pub use app::TestApp;
#[allow(unused_imports)]
pub use db::TestDb;
#[allow(unused_imports)]
pub use wait::{wait_until, wait_until_async};

/// Generates `NAME::sqlite` and `NAME::postgres` tests from `async fn NAME(app: TestApp)`.
/// The PostgreSQL one runs when `RUSTOK_TEST_POSTGRES_URL` is set and prints a skip line
/// otherwise.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::support::TestApp::start($crate::support::TestDb::sqlite()).await;
                    super::$name(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(db) = $crate::support::TestDb::postgres().await else { return };
                    let app = $crate::support::TestApp::start(db).await;
                    super::$name(app).await;
                }
            }
        )+
    };
}
