//! Running the real `rustok` binary against a fresh database, as a script would.

use super::db::TestDb;
use serde_json::Value;
use std::process::{Command, Output};

/// Environment variables a developer's shell may set that would change what a test sees.
const SCRUBBED: &[&str] = &[
    "RUSTOK_DATABASE_URL",
    "RUSTOK_TENANT",
    "RUSTOK_STAFF",
    "RUSTOK_SSH_PASSWORD_AUTH",
    "RUSTOK_AUDIT_LOG",
    "RUSTOK_SESSION_TIMEOUT_MINUTES",
];

pub struct Cli {
    pub db: TestDb,
    pub data: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Cli {
    pub fn new() -> Cli {
        Cli::with_env(&[])
    }

    /// A CLI on the given database (e.g. `TestDb::postgres()`).
    pub fn with_db(db: TestDb) -> Cli {
        Cli {
            db,
            data: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
        }
    }

    /// Runs `check` on a fresh SQLite database, then on a fresh PostgreSQL one when
    /// `RUSTOK_TEST_POSTGRES_URL` is set (printing a skip line otherwise).
    pub fn on_both_backends(check: impl Fn(&Cli)) {
        check(&Cli::new());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        if let Some(db) = rt.block_on(TestDb::postgres()) {
            drop(rt);
            check(&Cli::with_db(db));
        }
    }

    /// A CLI whose every run also sets these environment variables.
    pub fn with_env(env: &[(&str, &str)]) -> Cli {
        Cli {
            db: TestDb::sqlite(),
            data: tempfile::tempdir().expect("temp dir"),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A CLI on a fresh PostgreSQL database, or `None` (after printing why) when no server is
    /// set. For `#[test]` functions (it runs its own runtime to create the database).
    pub fn postgres() -> Option<Cli> {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let db = rt.block_on(TestDb::postgres())?;
        Some(Cli {
            db,
            data: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
        })
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rustok"));
        c.args(["--db", &self.db.url])
            .args(args)
            .env("RUSTOK_DATA_DIR", self.data.path());
        for v in SCRUBBED {
            c.env_remove(v);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run rustok")
    }

    /// Runs a command that must succeed and returns its JSON output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not one JSON value ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs a command that must be refused: exit code 1, nothing on stdout, one `error:` line
    /// on stderr. Returns that line.
    pub fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} should exit 1: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed to stdout on failure"
        );
        let err = String::from_utf8(out.stderr).expect("utf-8 stderr");
        assert_eq!(
            err.lines().count(),
            1,
            "{args:?}: one line on stderr, got {err:?}"
        );
        assert!(err.starts_with("error: "), "{err}");
        err
    }
}

/// The arguments of `product create` for one SKU: `product("MUG", "12.50").stock(10).args()`
/// gives `product create --sku MUG --price 12.50 --currency USD --stock 10`. The currency is USD
/// unless set; a flag left unset is not passed. Values are passed through as given, so a test
/// can hand the binary a hostile or out-of-range one (`.stock("-1")`).
#[derive(Clone, Debug)]
pub struct ProductArgs {
    sku: String,
    price: String,
    currency: String,
    title: Option<String>,
    stock: Option<String>,
    low_stock: Option<String>,
    policy: Option<String>,
}

pub fn product(sku: &str, price: &str) -> ProductArgs {
    ProductArgs {
        sku: sku.to_string(),
        price: price.to_string(),
        currency: "USD".to_string(),
        title: None,
        stock: None,
        low_stock: None,
        policy: None,
    }
}

impl ProductArgs {
    pub fn title(mut self, title: &str) -> Self {
        self.title = Some(title.to_string());
        self
    }

    pub fn currency(mut self, currency: &str) -> Self {
        self.currency = currency.to_string();
        self
    }

    pub fn stock(mut self, stock: impl ToString) -> Self {
        self.stock = Some(stock.to_string());
        self
    }

    pub fn low_stock(mut self, low_stock: impl ToString) -> Self {
        self.low_stock = Some(low_stock.to_string());
        self
    }

    pub fn policy(mut self, policy: &str) -> Self {
        self.policy = Some(policy.to_string());
        self
    }

    /// The argv after the global flags, for `Cli::json`, `Cli::refused` and `Cli::run`.
    pub fn args(&self) -> Vec<&str> {
        let mut a = vec!["product", "create", "--sku", &self.sku];
        if let Some(t) = &self.title {
            a.extend(["--title", t]);
        }
        a.extend(["--price", &self.price, "--currency", &self.currency]);
        for (flag, v) in [
            ("--stock", &self.stock),
            ("--low-stock", &self.low_stock),
            ("--policy", &self.policy),
        ] {
            if let Some(v) = v {
                a.extend([flag, v]);
            }
        }
        a
    }
}

/// Generates `NAME::sqlite` and `NAME::postgres` from `fn NAME(cli: Cli)`; the PostgreSQL one
/// says it was skipped when `RUSTOK_TEST_POSTGRES_URL` is not set.
#[macro_export]
macro_rules! cli_on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::support::cli::Cli::new());
                }

                #[test]
                fn postgres() {
                    if let Some(cli) = $crate::support::cli::Cli::postgres() {
                        super::$name(cli);
                    }
                }
            }
        )+
    };
}
