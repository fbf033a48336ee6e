//! The storage conformance suite on PostgreSQL: each story on a new database (see
//! `tracemark_store_postgres::testing` for where the server comes from).

use std::sync::Arc;

use tracemark_store::conformance::Opener;
use tracemark_store_postgres::PostgresStore;

fn fresh() -> Option<Opener> {
    let url = tracemark_store_postgres::testing::fresh_database_url()?;
    PostgresStore::connect(&url).expect("create the schema");
    Some(Arc::new(move || {
        Box::new(PostgresStore::connect(&url).expect("connect")) as Box<dyn tracemark_store::Store>
    }))
}

tracemark_store::conformance_suite!(fresh);
