//! `tracemark recipient import FILE`: a CSV of `name,email`, all in one transaction.

use std::path::Path;
use std::process::{Command, Output};

fn run(vault: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracemark"))
        .arg("--vault")
        .arg(vault)
        .args(args)
        .output()
        .expect("run tracemark")
}

fn names(vault: &Path) -> Vec<(String, Option<String>)> {
    let out = run(vault, &["recipient", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    list.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().expect("name").to_string(),
                r["email"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn a_csv_imports_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tmp");
    let vault = dir.path().join("v");
    assert!(run(&vault, &["init"]).status.success());
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "Name,Email,Office\n\"Embassy, Kyiv\",kyiv@example.org,1\nAide office,,2\n  Envoy office ,envoy@example.org,3\n",
    )
    .expect("write");
    let out = run(
        &vault,
        &["recipient", "import", good.to_str().expect("utf8")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 3 recipients"));
    assert_eq!(
        names(&vault),
        vec![
            (
                "Embassy, Kyiv".to_string(),
                Some("kyiv@example.org".to_string())
            ),
            ("Aide office".to_string(), None),
            (
                "Envoy office".to_string(),
                Some("envoy@example.org".to_string())
            ),
        ]
    );

    // A duplicate inside the file, a name already registered, a missing header, a name
    // in id syntax: each refuses the whole file and adds nobody.
    for (body, says) in [
        (
            "name,email\nA,\nB,\nA,\n",
            "line 4: \"A\" is already on line 2",
        ),
        ("name,email\nNew one,\nAide office,\n", "already exists"),
        ("who,email\nA,\n", "the header row must name the columns"),
        ("name,email\nr-12,\n", "r-12"),
        ("name,email\n,x@example.org\n", "line 2: the name is empty"),
    ] {
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, body).expect("write");
        let out = run(
            &vault,
            &["recipient", "import", bad.to_str().expect("utf8")],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{body:?} was accepted");
        assert!(err.contains(says), "{body:?}: {err}");
        assert_eq!(names(&vault).len(), 3, "{body:?} added someone");
    }
    let verify = run(&vault, &["log", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
