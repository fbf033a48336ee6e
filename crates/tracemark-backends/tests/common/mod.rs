//! Both backends for the tests: SQLite always, PostgreSQL when a server is available
//! (`tracemark_store_postgres::testing`; CI requires it).
#![allow(dead_code)] // Each test binary uses some of these.

use std::path::{Path, PathBuf};

use tracemark_backends::Location;

pub fn asset() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/call-en-8k-excerpt.flac"),
    )
    .expect("the committed call excerpt")
}

/// A database of one backend, with a way to run raw SQL on it behind the vault's back.
#[derive(Debug, Clone)]
pub enum Db {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database URL.
    Postgres(String),
}

impl Db {
    pub fn name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub fn url(&self) -> String {
        match self {
            Db::Sqlite(p) => format!("sqlite:{}", p.display()),
            Db::Postgres(u) => u.clone(),
        }
    }

    /// The vault whose keys are in `dir`, on this database.
    pub fn location(&self, dir: &Path) -> Location {
        Location {
            dir: dir.to_path_buf(),
            database: Some(self.url()),
            blobs: None,
        }
    }

    /// Runs SQL directly on the database (the tampering a database administrator could do).
    pub fn exec(&self, sqlite_sql: &str, postgres_sql: &str) {
        match self {
            Db::Sqlite(p) => rusqlite::Connection::open(p)
                .expect("open")
                .execute_batch(sqlite_sql)
                .expect("sqlite tamper"),
            Db::Postgres(u) => postgres::Client::connect(u, postgres::NoTls)
                .expect("connect")
                .batch_execute(postgres_sql)
                .expect("postgres tamper"),
        }
    }
}

/// Makes fresh, empty databases of each available backend.
pub struct Backends {
    dir: tempfile::TempDir,
    n: std::cell::Cell<u32>,
}

impl Backends {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tmp"),
            n: std::cell::Cell::new(0),
        }
    }

    /// A fresh SQLite database file.
    pub fn sqlite(&self) -> Db {
        self.n.set(self.n.get() + 1);
        Db::Sqlite(self.dir.path().join(format!("db-{}.sqlite", self.n.get())))
    }

    /// A fresh PostgreSQL database, if a server is available (the harness says why not).
    pub fn postgres(&self) -> Option<Db> {
        tracemark_store_postgres::testing::fresh_database_url().map(Db::Postgres)
    }

    /// A fresh database of the backend named `like`.
    pub fn fresh_like(&self, like: &Db) -> Db {
        match like {
            Db::Sqlite(_) => self.sqlite(),
            Db::Postgres(_) => self.postgres().expect("a server served the first database"),
        }
    }

    /// One fresh database of every available backend.
    pub fn all(&self) -> Vec<Db> {
        let mut v = vec![self.sqlite()];
        v.extend(self.postgres());
        v
    }
}
