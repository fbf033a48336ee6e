//! A PostgreSQL server for tests (feature `testing`): [`fresh_database_url`] creates a new,
//! empty database for each call and returns its URL.
//!
//! Where the server comes from, in order:
//! 1. [`URL_VAR`] (`TRACEMARK_TEST_POSTGRES_URL`): a URL (or key-value string) of a running
//!    server whose user may create databases. The databases made there are left for you
//!    to drop (`tm_` and 16 hex digits).
//! 2. A throwaway cluster, one per test process, made from the PostgreSQL server binaries:
//!    the directory [`BINDIR_VAR`] names if set, else `pg_config --bindir`, else the newest
//!    `/usr/lib/postgresql/*/bin` (Debian's layout) holding `initdb` and `pg_ctl`. It lives
//!    in a new directory under the temporary directory (data, socket and `server.log`),
//!    with trust authentication, listening on a free port on 127.0.0.1 only, with
//!    `fsync=off` (it is thrown away). As root (as CI runs) it runs as the `postgres` user
//!    through `runuser`, PostgreSQL refusing to run as root.
//!
//!    Stopping it: a small watchdog shell, started before the cluster, reads a pipe from
//!    the test process until end of file, which the kernel delivers however the process
//!    ends (normal exit, panic, a signal, even SIGKILL); it then runs
//!    `pg_ctl -m immediate stop` and removes the directory. It ignores SIGINT and SIGHUP,
//!    so a Ctrl-C in the terminal ends the tests but still stops the server.
//!
//! When neither is available, each caller prints `skipped: <test>: PostgreSQL not available
//! (<why>)` to stderr and gets `None`; with [`REQUIRE_VAR`]`=1` (as CI sets) it panics
//! with the reason instead, so a run never skips silently. A server that is configured or
//! installed but fails (a bad URL, initdb failing) always panics: that is a failure, not a
//! reason to skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::NoTls;

/// The URL of an existing server to make the test databases on.
pub const URL_VAR: &str = "TRACEMARK_TEST_POSTGRES_URL";
/// The directory of `initdb` and `pg_ctl` (instead of `pg_config --bindir`).
pub const BINDIR_VAR: &str = "TRACEMARK_TEST_POSTGRES_BINDIR";
/// Set to `1` to fail instead of skipping when there is no PostgreSQL.
pub const REQUIRE_VAR: &str = "TRACEMARK_REQUIRE_POSTGRES";

/// A server to create databases on.
struct Server {
    /// Connects as a user that may create databases.
    admin_url: String,
    /// Held open for the life of the process: its closing stops the throwaway cluster.
    _watchdog: Option<ChildStdin>,
}

enum Unavailable {
    /// Nothing configured or installed: skip (unless required).
    Missing(String),
    /// Configured or installed, and failing: a test failure.
    Broken(String),
}

static SERVER: OnceLock<Result<Server, Unavailable>> = OnceLock::new();

/// A new, empty UTF8 database on the test server, as a URL for
/// [`PostgresStore::connect`](crate::PostgresStore::connect), or `None` (after saying so on
/// stderr) when no PostgreSQL is available and [`REQUIRE_VAR`] is not `1`. The message
/// names the calling test by its thread's name.
///
/// # Panics
/// When PostgreSQL is required and missing, or configured but failing.
pub fn fresh_database_url() -> Option<String> {
    let story = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    match SERVER.get_or_init(find_server) {
        Ok(server) => Some(
            create_database(&server.admin_url)
                .unwrap_or_else(|why| panic!("{story}: PostgreSQL test database: {why}")),
        ),
        Err(Unavailable::Broken(why)) => panic!("{story}: PostgreSQL test server: {why}"),
        Err(Unavailable::Missing(why)) => {
            if std::env::var(REQUIRE_VAR).as_deref() == Ok("1") {
                panic!("{story}: PostgreSQL not available ({why}), and {REQUIRE_VAR}=1");
            }
            // Straight to the process's stderr: the test harness captures `eprintln!` of
            // passing tests, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {story}: PostgreSQL not available ({why})"
            );
            None
        }
    }
}

fn find_server() -> Result<Server, Unavailable> {
    if let Ok(url) = std::env::var(URL_VAR)
        && !url.trim().is_empty()
    {
        return Ok(Server {
            admin_url: url,
            _watchdog: None,
        });
    }
    let bindir = find_bindir().map_err(Unavailable::Missing)?;
    start_cluster(&bindir).map_err(Unavailable::Broken)
}

fn has_server_binaries(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// Where `initdb` and `pg_ctl` are, or why there are none.
fn find_bindir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os(BINDIR_VAR) {
        let dir = PathBuf::from(dir);
        return if has_server_binaries(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "{BINDIR_VAR}={} holds no initdb and pg_ctl",
                dir.display()
            ))
        };
    }
    let pg_config = match Command::new("pg_config").arg("--bindir").output() {
        Ok(out) if out.status.success() => {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_server_binaries(&dir) {
                return Ok(dir);
            }
            format!(
                "pg_config --bindir gives {}, without initdb and pg_ctl",
                dir.display()
            )
        }
        Ok(out) => format!("pg_config --bindir failed: {}", out.status),
        Err(e) => format!("no pg_config on PATH ({e})"),
    };
    // Debian's layout: one directory per major version.
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_server_binaries(bin))
        .collect();
    debian.sort();
    debian.pop().map(|(_, bin)| bin).ok_or_else(|| {
        format!(
            "{pg_config}; none under /usr/lib/postgresql/*/bin; install the PostgreSQL server \
             (Debian: postgresql) or set {URL_VAR}"
        )
    })
}

/// Runs a command to completion, as `run_as` when given; its output on failure.
fn run(program: &Path, args: &[&str], run_as: Option<&str>, cwd: &Path) -> Result<(), String> {
    let mut cmd = match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    let out = cmd
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {} failed ({}): {}{}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn running_as_root() -> bool {
    // Linux: the effective uid (what PostgreSQL checks), second on the Uid line;
    // elsewhere `id -u`.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(uid) = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|rest| rest.split_whitespace().nth(1))
    {
        return uid == "0";
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0")
}

/// 16 hex digits, different for every call in every process.
fn unique_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    format!("{:016x}", h.finish())
}

/// A directory for the cluster whose path needs no quoting in `pg_ctl -o` and is short
/// enough for a Unix socket path.
fn cluster_dir() -> PathBuf {
    let tmp = std::env::temp_dir();
    let plain = tmp.to_str().is_some_and(|s| {
        s.len() < 60
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
    });
    let base = if plain { tmp } else { PathBuf::from("/tmp") };
    base.join(format!(
        "tracemark-pg-{}-{}",
        std::process::id(),
        &unique_hex()[..8]
    ))
}

/// Starts the watchdog that stops the cluster in `dir` and removes `dir` once the test
/// process has gone (see the module docs).
fn start_watchdog(dir: &Path, pg_ctl: &Path, run_as: Option<&str>) -> Result<ChildStdin, String> {
    // After end of file: stop the server if it runs and remove the directory, again each
    // second for up to two minutes while the directory remains, in case the process died
    // while an initdb or a pg_ctl start it had spawned was still running.
    const SCRIPT: &str = r#"trap '' INT HUP
cat >/dev/null
n=0
while [ "$n" -lt 120 ]; do
  if [ -f "$1/data/postmaster.pid" ]; then
    if [ -n "$3" ]; then runuser -u "$3" -- "$2" -D "$1/data" -m immediate stop
    else "$2" -D "$1/data" -m immediate stop; fi
  fi
  rm -rf "$1"
  [ -e "$1" ] || break
  n=$((n + 1))
  sleep 1
done"#;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("tracemark-pg-watchdog")
        .arg(dir)
        .arg(pg_ctl)
        .arg(run_as.unwrap_or(""))
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cluster's watchdog (sh): {e}"))?;
    child
        .stdin
        .take()
        .ok_or_else(|| "the watchdog has no stdin pipe".to_string())
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn start_cluster(bindir: &Path) -> Result<Server, String> {
    let run_as = running_as_root().then_some("postgres");
    let dir = cluster_dir();
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if let Some(user) = run_as {
        run(
            Path::new("chown"),
            &[user, &dir.to_string_lossy()],
            None,
            &dir,
        )
        .map_err(|e| {
            format!("running as root, the cluster runs as {user}, which needs the directory: {e}")
        })?;
    }
    let pg_ctl = bindir.join("pg_ctl");
    let watchdog = start_watchdog(&dir, &pg_ctl, run_as)?;
    let data = dir.join("data");
    let (data_s, dir_s) = (data.to_string_lossy(), dir.to_string_lossy());
    run(
        &bindir.join("initdb"),
        &[
            "-D",
            &data_s,
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        run_as,
        &dir,
    )?;
    let log = dir.join("server.log");
    let log_s = log.to_string_lossy();
    let mut tries = Vec::new();
    // Another process may take the free port before the server binds it: try a few.
    for _ in 0..3 {
        let port = free_port()?;
        let options = format!(
            "-p {port} -k {dir_s} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        );
        match run(
            &pg_ctl,
            &[
                "-D", &data_s, "-l", &log_s, "-o", &options, "-w", "-t", "60", "start",
            ],
            run_as,
            &dir,
        ) {
            Ok(()) => {
                return Ok(Server {
                    admin_url: format!("postgresql://postgres@127.0.0.1:{port}/postgres"),
                    _watchdog: Some(watchdog),
                });
            }
            Err(e) => tries.push(e),
        }
    }
    let tail = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = tail.lines().rev().take(10).collect();
    Err(format!(
        "the throwaway cluster in {} did not start: {}; server.log ends: {}",
        dir.display(),
        tries.join("; "),
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    ))
}

/// `url` with its database replaced by `dbname` (URL or key-value form).
fn with_dbname(url: &str, dbname: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = ["postgresql://", "postgres://"]
        .iter()
        .find_map(|s| url.strip_prefix(s).map(|rest| (*s, rest)))
    else {
        // Key-value form: a later key wins.
        return format!("{url} dbname={dbname}");
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or("");
    match query {
        Some(q) => format!("{scheme}{authority}/{dbname}?{q}"),
        None => format!("{scheme}{authority}/{dbname}"),
    }
}

fn create_database(admin_url: &str) -> Result<String, String> {
    let mut admin = postgres::Client::connect(admin_url, NoTls)
        .map_err(|e| format!("cannot connect to the server ({e})"))?;
    let name = format!("tm_{}", unique_hex());
    // template0 and the C locale: UTF8 and byte-order text whatever the server's defaults.
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
    Ok(with_dbname(admin_url, &name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_dbname("postgresql://postgres@127.0.0.1:5433/postgres", "tm_1"),
            "postgresql://postgres@127.0.0.1:5433/tm_1"
        );
        assert_eq!(
            with_dbname("postgres://u:p@h/db?sslmode=disable", "tm_1"),
            "postgres://u:p@h/tm_1?sslmode=disable"
        );
        assert_eq!(with_dbname("postgres://h:1", "tm_1"), "postgres://h:1/tm_1");
        assert_eq!(
            with_dbname("host=/tmp user=me dbname=x", "tm_1"),
            "host=/tmp user=me dbname=x dbname=tm_1"
        );
        let config: postgres::Config = with_dbname("host=/tmp dbname=x", "tm_1")
            .parse()
            .expect("key-value form parses");
        assert_eq!(config.get_dbname(), Some("tm_1"), "the later dbname wins");
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_hex(), unique_hex());
        assert_eq!(unique_hex().len(), 16);
    }
}
