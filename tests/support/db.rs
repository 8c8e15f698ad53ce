//! A fresh database per test: a temporary SQLite file, or a new PostgreSQL database (dropped
//! afterwards) on the server named by `RUSTOK_TEST_POSTGRES_URL`.

use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;

pub const POSTGRES_ENV: &str = "RUSTOK_TEST_POSTGRES_URL";

pub struct TestDb {
    pub url: String,
    dir: Option<TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("rustok.db").display());
        TestDb {
            url,
            dir: Some(dir),
            pg: None,
        }
    }

    /// A new, empty PostgreSQL database; `None` (after printing why) when no server is set.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(admin) = std::env::var(POSTGRES_ENV) else {
            eprintln!("skipped: no PostgreSQL ({POSTGRES_ENV} is not set)");
            return None;
        };
        let name = format!("rustok_t_{}", uuid::Uuid::now_v7().simple());
        let conn = Database::connect(admin.as_str())
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but unreachable: {e}"));
        conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        conn.close().await.ok();
        Some(TestDb {
            url: with_database(&admin, &name),
            dir: None,
            pg: Some((admin, name)),
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// A directory for files the test needs (SQLite tests only).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping any query parameters.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop the database from a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let conn = Database::connect(admin.as_str()).await.ok()?;
                conn.execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                ))
                .await
                .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

#[test]
fn replaces_database_names() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/postgres?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}
