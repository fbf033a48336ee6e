//! Finding and running external programs: no shell, a time budget, stderr kept in a file so a
//! chatty tool can never block on a full pipe.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::CodecError;

/// The first executable called `name` on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Lines of stderr kept in error messages.
const STDERR_TAIL_LINES: usize = 6;

/// Runs `tool` with `args` in `dir`, killing it after `budget`.
pub fn run(
    tool: &'static str,
    args: &[&str],
    dir: &Path,
    budget: Duration,
) -> Result<(), CodecError> {
    let program = find_on_path(tool).ok_or(CodecError::ToolMissing { tool })?;
    let stderr_path = dir.join(format!("{tool}.stderr"));
    let io = |context: String| move |source| CodecError::Io { context, source };
    let stderr = std::fs::File::create(&stderr_path)
        .map_err(io(format!("creating {}", stderr_path.display())))?;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(io(format!("starting {tool}")))?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(io(format!("waiting for {tool}")))?
        {
            break status;
        }
        if start.elapsed() > budget {
            // Best effort: the child may have exited between the two calls.
            let _ = child.kill();
            let _ = child.wait();
            return Err(CodecError::Timeout {
                tool,
                seconds: budget.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join(" | ");
    Err(CodecError::ToolFailed {
        tool,
        status: status.to_string(),
        stderr_tail: tail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_tool_reports_its_stderr_tail() {
        if find_on_path("sox").is_none() {
            eprintln!("note: sox missing, skipping");
            return;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let err = run(
            "sox",
            &["no-such-input.wav", "out.wav"],
            dir.path(),
            Duration::from_secs(30),
        )
        .expect_err("sox must fail on a missing file");
        match err {
            CodecError::ToolFailed {
                tool, stderr_tail, ..
            } => {
                assert_eq!(tool, "sox");
                assert!(stderr_tail.contains("no-such-input.wav"), "{stderr_tail}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn a_missing_tool_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = run(
            "tracemark-no-such-tool",
            &[],
            dir.path(),
            Duration::from_secs(1),
        );
        assert!(matches!(err, Err(CodecError::ToolMissing { .. })));
    }
}
