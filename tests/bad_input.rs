//! Every class of bad input stops the file with exit code 2 and a message naming the
//! file, line and column.

use std::process::Command;

fn run(file: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wsasim"))
        .args(["run", &format!("tests/bad_input/{file}")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the wsasim binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn check(file: &str, line: u32, col: u32, fragment: &str) {
    let (code, stdout) = run(file);
    assert_eq!(code, 2, "{file}: exit code, output:\n{stdout}");
    let want = format!("tests/bad_input/{file}:{line}:{col}: ");
    assert!(
        stdout.contains(&want),
        "{file}: expected `{want}` in:\n{stdout}"
    );
    assert!(
        stdout.contains(fragment),
        "{file}: expected `{fragment}` in:\n{stdout}"
    );
    assert!(
        stdout.contains("0 passed, 1 failed"),
        "{file}: summary in:\n{stdout}"
    );
}

#[test]
fn malformed_yaml_names_where_the_parser_stopped() {
    check("malformed_yaml.yaml", 5, 10, "malformed YAML");
}

#[test]
fn a_misspelt_expect_is_an_unknown_key_with_a_suggestion() {
    check("unknown_key.yaml", 7, 5, "unknown key `expct`");
    check("unknown_key.yaml", 7, 5, "did you mean `expect`?");
}

#[test]
fn a_string_where_a_number_belongs_is_a_wrong_type() {
    check(
        "wrong_type.yaml",
        6,
        14,
        "`out_len`: expected a non-negative number, found a string",
    );
}

#[test]
fn a_socket_named_before_it_is_created_is_refused() {
    check(
        "name_before_it_exists.yaml",
        4,
        12,
        "socket `t` is used before it exists",
    );
}

#[test]
fn an_unknown_code_name_is_refused_with_a_suggestion() {
    check(
        "unknown_code.yaml",
        5,
        11,
        "unknown code name `SIO_ADRESS_LIST_QUERY`",
    );
}

#[test]
fn an_unknown_error_name_is_refused() {
    check(
        "unknown_error.yaml",
        6,
        34,
        "unknown error name `WSAEOPNOTSUP`",
    );
}

#[test]
fn an_unknown_guid_name_is_refused() {
    check("unknown_guid.yaml", 6, 9, "unknown GUID name `ACCEPT_EX`");
}

#[test]
fn an_in_form_that_cannot_be_encoded_is_refused() {
    check("unencodable_in.yaml", 6, 11, "cannot encode `in`");
}

#[test]
fn a_thread_left_blocked_without_a_join_is_refused() {
    check(
        "thread_never_joined.yaml",
        4,
        5,
        "thread `watcher` blocks at step 2 and is never joined",
    );
}

#[test]
fn nothing_runs_from_a_bad_file_but_good_files_still_run() {
    let out = Command::new(env!("CARGO_BIN_EXE_wsasim"))
        .args([
            "run",
            "tests/bad_input/unknown_key.yaml",
            "scenarios/unsupported",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the wsasim binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(!stdout.contains("a misspelt expect"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("pass ")), "{stdout}");
    let last = stdout.lines().last().unwrap_or("");
    assert!(last.ends_with("passed, 1 failed"), "{last}");
}

#[test]
fn an_expectation_that_fails_exits_1_and_shows_the_call() {
    let dir = std::env::temp_dir().join(format!("wsasim-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("wrong.yaml");
    std::fs::write(
        &f,
        "name: wrong on purpose\nsteps:\n  - socket: s\n  - ioctl: s\n    code: 0xDEADBEEF\n    out_len: 8\n    expect: { result: 0, error: 0, bytes_returned: 4 }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wsasim"))
        .arg("run")
        .arg(&f)
        .output()
        .expect("the wsasim binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("WSAIoctl(s, 0xDEADBEEF, NULL, 0, out[8], 8, &n, NULL, NULL)"),
        "{stdout}"
    );
    assert!(stdout.contains("wrong.yaml:4: step 2"), "{stdout}");
    assert!(
        stdout.contains("error: expected 0, got WSAEOPNOTSUPP (10045)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("bytes_returned: expected 4, got 0"),
        "{stdout}"
    );
    assert!(stdout.contains("seed: 0"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("0 passed, 1 failed"));
    std::fs::remove_dir_all(&dir).ok();
}
