//! The storage error type.

/// What went wrong in storage. Messages name the table, row and column where one is known.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database or blob store failed (connection, I/O, SQL).
    #[error("{backend}: {message}")]
    Backend {
        /// `sqlite`, `postgres`, `local-blobs`, `object-store`...
        backend: &'static str,
        /// The driver's message.
        message: String,
    },
    /// Another writer held the lock for longer than the busy timeout.
    #[error(
        "{backend}: the vault is busy (another writer held the lock for {waited_ms} ms); try again"
    )]
    Busy {
        /// The backend.
        backend: &'static str,
        /// How long this writer waited.
        waited_ms: u64,
    },
    /// A stored value does not parse as what its column holds.
    #[error("stored {table} row {row}: column {column} is corrupt: {reason}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Row key as text.
        row: String,
        /// Column.
        column: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A unique name is taken.
    #[error("a {kind} named {name:?} already exists")]
    Duplicate {
        /// Recipient...
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A row a draft refers to does not exist.
    #[error("no {kind} {id}")]
    NotFound {
        /// Recording, recipient...
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A value a draft carries is invalid.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The database was written by a newer tracemark.
    #[error(
        "the vault's database is at schema version {found}; this tracemark knows up to {known}: upgrade tracemark"
    )]
    SchemaTooNew {
        /// The stored version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// An import into a store that already holds a vault.
    #[error(
        "the target database already holds a vault ({entries} log entries); migrate into an empty one"
    )]
    NotEmpty {
        /// Entries found.
        entries: u64,
    },
    /// Building or signing the log failed.
    #[error("log: {0}")]
    Ledger(#[from] tracemark_ledger::LedgerError),
}

impl StoreError {
    /// A backend failure.
    pub fn backend(backend: &'static str, e: impl std::fmt::Display) -> Self {
        Self::Backend {
            backend,
            message: e.to_string(),
        }
    }

    /// A corrupt column.
    pub fn corrupt(
        table: &'static str,
        row: impl std::fmt::Display,
        column: &'static str,
        reason: impl std::fmt::Display,
    ) -> Self {
        Self::Corrupt {
            table,
            row: row.to_string(),
            column,
            reason: reason.to_string(),
        }
    }
}
