//! The `patientgen` binary end to end: every command, every format, the
//! reproducibility guarantees and every way of getting the input wrong.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Read;
use std::path::Path;
use tempfile::TempDir;

const PINNED: &str = "2025-06-01T00:00:00Z";

fn patientgen() -> Command {
    let mut cmd = Command::cargo_bin("patientgen").expect("binary built");
    cmd.env_remove("SOURCE_DATE_EPOCH");
    cmd
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Generates the scenario file's patients as JSON into `dir/out` and returns them.
fn generate_from_scenario(scenario: &Path, dir: &Path) -> Vec<serde_json::Value> {
    patientgen()
        .args(["generate", "-q", "--scenario"])
        .arg(scenario)
        .arg("-o")
        .arg(dir.join("out"))
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&read(&dir.join("out/patients.json"))).expect("json");
    v["patients"].as_array().cloned().unwrap_or_default()
}

/// Runs a command that must fail with exit code 2 and a clear message.
fn rejects(cmd: &mut Command, message: &str) {
    cmd.assert()
        .code(2)
        .stderr(predicate::str::contains(message).and(predicate::str::contains("panicked").not()));
}

#[test]
fn every_command_explains_itself() {
    patientgen().arg("--help").assert().success().stdout(predicate::str::contains("generate"));
    for (cmd, flag) in [
        ("generate", "--password-env"),
        ("presets", "--show"),
        ("stats", "--format"),
        ("decrypt", "--password-env"),
    ] {
        patientgen().args([cmd, "--help"]).assert().success().stdout(predicate::str::contains(flag));
    }
    patientgen().args(["scenario", "validate", "--help"]).assert().success();
}

#[test]
fn presets_lists_every_upstream_preset() {
    let out = patientgen().arg("presets").assert().success().get_output().stdout.clone();
    let text = String::from_utf8_lossy(&out);
    for id in [
        "nato_article_5",
        "peacekeeping",
        "urban_assault",
        "cbrn_incident",
        "training_exercise",
        "mass_casualty",
        "arctic_operation",
        "maritime_operation",
        "default",
    ] {
        assert!(text.contains(id), "{id} missing");
    }
    let json =
        patientgen().args(["presets", "--format", "json"]).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(9));
    let shown = patientgen()
        .args(["presets", "--show", "cbrn_incident"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&shown).expect("json");
    assert_eq!(v["preset_id"], "cbrn_incident");
    assert!(v["triage_override"]["Disease"]["T1"].is_number());
}

#[test]
fn generates_every_format_reproducibly_across_thread_counts() {
    let dir = TempDir::new().expect("tempdir");
    for threads in ["1", "2"] {
        patientgen()
            .args([
                "generate",
                "-n",
                "1500",
                "--seed",
                "42",
                "--generated-at",
                PINNED,
                "--threads",
                threads,
                "-q",
                "--preset",
                "nato_article_5",
            ])
            .args(["-f", "json", "-f", "ndjson", "-f", "csv", "-f", "fhir", "-f", "xml"])
            .arg("-o")
            .arg(dir.path().join(format!("t{threads}")))
            .assert()
            .success();
    }
    for name in ["patients.json", "patients.ndjson", "patients.csv", "patients.fhir.ndjson", "patients.xml"] {
        let a = read(&dir.path().join("t1").join(name));
        let b = read(&dir.path().join("t2").join(name));
        assert!(a.len() > 1000, "{name} is empty");
        assert!(a == b, "{name} differs between --threads 1 and 2");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&read(&dir.path().join("t1/patients.json"))).expect("json");
    assert_eq!(v["patients"].as_array().map(Vec::len), Some(1500));
    assert_eq!(v["metadata"]["seed"], 42);
    assert_eq!(v["metadata"]["generated_at_iso"], PINNED);
    // Another seed gives other patients.
    patientgen()
        .args([
            "generate",
            "-n",
            "1500",
            "--seed",
            "43",
            "--generated-at",
            PINNED,
            "-q",
            "--preset",
            "nato_article_5",
            "-f",
            "ndjson",
            "-o",
        ])
        .arg(dir.path().join("other.ndjson"))
        .assert()
        .success();
    assert_ne!(read(&dir.path().join("other.ndjson")), read(&dir.path().join("t1/patients.ndjson")));
}

#[test]
fn zip_is_reproducible_and_its_manifest_is_true() {
    let dir = TempDir::new().expect("tempdir");
    for name in ["a.zip", "b.zip"] {
        patientgen()
            .args([
                "generate",
                "-n",
                "300",
                "--seed",
                "5",
                "--generated-at",
                PINNED,
                "-q",
                "-f",
                "json",
                "-f",
                "csv",
                "-f",
                "zip",
                "-o",
            ])
            .arg(dir.path().join(name))
            .assert()
            .success();
    }
    let bytes = read(&dir.path().join("a.zip"));
    assert_eq!(bytes, read(&dir.path().join("b.zip")));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut manifest = String::new();
    zip.by_name("manifest.json").expect("manifest").read_to_string(&mut manifest).expect("read");
    let m: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    assert_eq!(m["seed"], 5);
    assert_eq!(m["counts"]["patients"], 300);
    assert_eq!(m["scenario"]["preset_id"], "default");
    assert_eq!(m["files"].as_array().map(Vec::len), Some(2));
    for f in m["files"].as_array().into_iter().flatten() {
        let mut content = Vec::new();
        zip.by_name(f["name"].as_str().unwrap_or_default())
            .expect("entry")
            .read_to_end(&mut content)
            .expect("read");
        assert_eq!(f["bytes"].as_u64(), Some(content.len() as u64));
        let digest = ring::digest::digest(&ring::digest::SHA256, &content);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(f["sha256"].as_str(), Some(hex.as_str()));
    }
}

#[test]
fn stdout_output_and_gzip() {
    let out = patientgen()
        .args(["generate", "-n", "120", "--seed", "1", "-q", "-f", "ndjson", "-o", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<&[u8]> = out.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 120);
    let dir = TempDir::new().expect("tempdir");
    patientgen()
        .args(["generate", "-n", "50", "--seed", "1", "-q", "--gzip", "-f", "csv", "-o"])
        .arg(dir.path())
        .assert()
        .success();
    let gz = read(&dir.path().join("patients.csv.gz"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_slice()).read_to_string(&mut text).expect("gunzip");
    assert_eq!(text.lines().count(), 51);
}

#[test]
fn encrypted_output_decrypts_to_the_plain_output() {
    let dir = TempDir::new().expect("tempdir");
    let base = ["generate", "-n", "200", "--seed", "9", "--generated-at", PINNED, "-q", "-f", "json"];
    patientgen().args(base).arg("-o").arg(dir.path().join("plain")).assert().success();
    patientgen()
        .args(base)
        .args(["--encrypt", "--password-env", "PG_TEST_PASSWORD", "-o"])
        .arg(dir.path().join("secret"))
        .env("PG_TEST_PASSWORD", "exercise-2025")
        .assert()
        .success();
    let sealed = dir.path().join("secret/patients.json.enc");
    assert!(read(&sealed).starts_with(b"PGENENC\0"));
    patientgen()
        .args(["decrypt", "--password-env", "PG_TEST_PASSWORD"])
        .arg(&sealed)
        .env("PG_TEST_PASSWORD", "exercise-2025")
        .assert()
        .success();
    assert_eq!(read(&dir.path().join("secret/patients.json")), read(&dir.path().join("plain/patients.json")));
    // Wrong password: a clear error and no output left behind.
    std::fs::remove_file(dir.path().join("secret/patients.json")).expect("rm");
    rejects(
        patientgen()
            .args(["decrypt", "--password-env", "PG_TEST_PASSWORD"])
            .arg(&sealed)
            .env("PG_TEST_PASSWORD", "wrong-password"),
        "wrong password",
    );
    assert!(!dir.path().join("secret/patients.json").exists());
    let names: Vec<String> = std::fs::read_dir(dir.path().join("secret"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["patients.json.enc"], "no temporary file left behind");
    rejects(
        patientgen()
            .args(base)
            .args(["--encrypt", "--password-env", "PG_SHORT", "-o"])
            .arg(dir.path().join("x"))
            .env("PG_SHORT", "short"),
        "at least 8 characters",
    );
}

#[test]
fn scenario_files_in_json_and_toml() {
    let dir = TempDir::new().expect("tempdir");
    let toml = dir.path().join("s.toml");
    std::fs::write(
        &toml,
        "name = \"Harbour\"\ntotal_patients = 80\nseed = 3\nfacility_chain = [\"POI\", \"Role1\", \"Role2\"]\n[warfare_types]\nnaval = true\n[[front_configs]]\nid = \"h\"\nname = \"Harbour\"\ncasualty_rate = 1.0\nnationality_distribution = [{ nationality_code = \"NOR\", percentage = 60 }, { nationality_code = \"DNK\", percentage = 40 }]\n",
    )
    .expect("write");
    patientgen()
        .args(["scenario", "validate"])
        .arg(&toml)
        .assert()
        .success()
        .stdout(predicate::str::contains("valid").and(predicate::str::contains("POI > Role1 > Role2")));
    let patients = generate_from_scenario(&toml, dir.path());
    assert_eq!(patients.len(), 80);
    assert!(patients.iter().all(|p| p["nationality"] == "NOR" || p["nationality"] == "DNK"));
    assert!(patients.iter().all(|p| p["last_facility"] != "Role3" && p["last_facility"] != "Role4"));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"total_patients": 0, "warfare_types": {"laser": true}, "front_configs": [{"id": "a", "name": "A", "casualty_rate": 1, "nationality_distribution": [{"nationality_code": "XXX", "percentage": 100}]}]}"#).expect("write");
    rejects(
        patientgen().args(["scenario", "validate"]).arg(&bad),
        "total_patients: must be between 1 and 1000000",
    );
    rejects(patientgen().args(["scenario", "validate"]).arg(&bad), "warfare_types -> laser");
    rejects(patientgen().args(["scenario", "validate"]).arg(&bad), "nationality_code: unknown nation 'XXX'");
    rejects(patientgen().args(["generate", "--scenario"]).arg(&bad), "invalid scenario");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"total_patients\": ").expect("write");
    rejects(patientgen().args(["scenario", "validate"]).arg(&broken), "broken.json");
    // Nothing but whitespace may follow the JSON (the API refuses it too).
    for trailing in ["{\"total_patients\": 10}garbage", "{\"total_patients\": 10}\n{\"seed\": 1}"] {
        std::fs::write(&broken, trailing).expect("write");
        rejects(patientgen().args(["scenario", "validate"]).arg(&broken), "trailing characters");
    }
    std::fs::write(&broken, "{\"total_patients\": 10}\n\n").expect("write");
    patientgen().args(["scenario", "validate"]).arg(&broken).assert().success();
    rejects(patientgen().args(["scenario", "validate", "/no/such/file.json"]), "cannot read scenario file");
    // An API request body: its `configuration` is the scenario, and its errors are reported.
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{"configuration": {"total_patients": 42}, "output_formats": ["json"]}"#)
        .expect("write");
    patientgen()
        .args(["scenario", "validate"])
        .arg(&body)
        .assert()
        .success()
        .stdout(predicate::str::contains("patients:    42"));
    std::fs::write(&body, r#"{"configuration": {"total_patients": "lots"}}"#).expect("write");
    rejects(patientgen().args(["scenario", "validate"]).arg(&body), "total_patients");
}

#[test]
fn bad_arguments_get_clear_errors_and_never_lose_data() {
    let dir = TempDir::new().expect("tempdir");
    rejects(patientgen().args(["generate", "--preset", "nope"]), "unknown preset 'nope'");
    rejects(patientgen().args(["generate", "--threads", "0"]), "--threads must be at least 1");
    rejects(patientgen().args(["generate", "-n", "0"]), "total_patients: must be between 1");
    rejects(
        patientgen().args(["generate", "-f", "json", "-f", "csv", "-o", "-"]),
        "several formats cannot go to stdout",
    );
    rejects(patientgen().args(["generate", "-f", "zip", "--gzip", "-o", "-"]), "already compressed");
    rejects(patientgen().args(["generate", "--generated-at", "yesterday"]), "RFC 3339");
    patientgen()
        .args(["generate", "-f", "yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'yaml'"));
    // An existing file is not overwritten without --force.
    let existing = dir.path().join("patients.json");
    std::fs::write(&existing, "precious").expect("write");
    rejects(patientgen().args(["generate", "-q", "-n", "5", "-o"]).arg(dir.path()), "already exists");
    assert_eq!(read(&existing), b"precious");
    patientgen().args(["generate", "-q", "-n", "5", "--force", "-o"]).arg(dir.path()).assert().success();
    assert_ne!(read(&existing), b"precious");
    rejects(
        patientgen()
            .args(["generate", "-q", "-f", "json", "-f", "csv", "-o"])
            .arg(dir.path().join("one.json")),
        "is a file but 2 formats",
    );
    rejects(patientgen().args(["stats", "/no/such/file"]), "cannot open");
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "[{\"id\": 1}]").expect("write");
    rejects(patientgen().args(["stats"]).arg(&junk), "triage_category");
    let binary = dir.path().join("binary.json");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).expect("write");
    rejects(patientgen().args(["stats"]).arg(&binary), "binary.json: not a patients file");
    rejects(patientgen().args(["decrypt", "--password-env", "HOME"]).arg(&junk), "does not end in .enc");
    // No temporary files left behind by the failures above.
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial") || n.contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn stats_and_summary_report_counts_and_timings() {
    let dir = TempDir::new().expect("tempdir");
    patientgen()
        .args(["generate", "-n", "2000", "--seed", "3", "--summary", "-f", "json", "-f", "ndjson", "-o"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(
            predicate::str::contains("Calibration").and(predicate::str::contains("KIA of battle injuries")),
        );
    for name in ["patients.json", "patients.ndjson"] {
        patientgen().arg("stats").arg(dir.path().join(name)).assert().success().stdout(
            predicate::str::contains("Outcome")
                .and(predicate::str::contains("Hours from injury to arrival"))
                .and(predicate::str::contains("Poland Front")),
        );
    }
    let json = patientgen()
        .args(["stats", "--format", "json"])
        .arg(dir.path().join("patients.json"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(s["total_patients"], 2000);
    assert_eq!(s["fronts"]["Poland Front"]["count"], 1200);
    assert!(s["arrival_hours"]["Role1"]["T1"]["p50"].as_f64().is_some_and(|h| h > 0.0));
    // Upstream's own output shape (no `outcome`, DOW folded into KIA).
    let upstream = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream-shape.json");
    let json = patientgen()
        .args(["stats", "--format", "json"])
        .arg(upstream)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(s["total_patients"], 3);
    assert_eq!(s["outcomes"]["DOW"]["count"], 1);
    assert_eq!(s["outcomes"]["REMAINS_ROLE4"]["count"], 1);
}

/// `patientgen keys …` on the embedded database, for the outputs the service
/// tests do not read: tables, filters, demo keys, expiry and the statistics.
#[test]
fn key_commands_print_tables_and_filter() {
    let dir = TempDir::new().expect("tempdir");
    let db = ["--data-dir", dir.path().to_str().expect("utf-8 path")];
    let keys = |args: &[&str]| {
        let out =
            patientgen().arg("keys").args(args).args(db).env_remove("DATABASE_URL").output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let demo = keys(&[
        "create",
        "--name",
        "Demo Desk",
        "--email",
        "d@example.org",
        "--demo",
        "--expires-days",
        "10",
    ]);
    for line in [
        "Type:                demo",
        "Patients/request:    50",
        "Requests/minute:     10",
        "Requests/day:        100",
    ] {
        assert!(demo.contains(line), "{line} missing:\n{demo}");
    }
    let key_line = demo.lines().find(|l| l.starts_with("API key: sk_demo_")).expect("the key is shown once");
    assert!(demo.contains("cannot be shown again"));
    let live: serde_json::Value = serde_json::from_str(&keys(&[
        "create",
        "--name",
        "Field Live",
        "--patients-per-day",
        "5000",
        "--format",
        "json",
    ]))
    .expect("json");
    assert_eq!(live["limits"]["requests_per_hour"], 1000);
    let live_id = live["id"].as_str().expect("id");

    let table = keys(&["list"]);
    assert!(table.starts_with("ID        KEY"), "{table}");
    assert!(table.contains("Demo Desk") && table.contains("Field Live") && table.contains("2 key(s)"));
    assert!(!table.contains(&key_line["API key: ".len()..]), "lists never show a key");
    let demos: serde_json::Value =
        serde_json::from_str(&keys(&["list", "--demo", "--format", "json"])).expect("json");
    assert_eq!(demos.as_array().map(Vec::len), Some(1));
    assert_eq!(demos[0]["name"], "Demo Desk");
    assert!(demos[0]["expires_at"].is_string());
    keys(&["deactivate", live_id]);
    let active = keys(&["list", "--active", "--format", "csv"]);
    assert_eq!(active.lines().count(), 2, "{active}");
    assert!(active.contains("Demo Desk,d@example.org,Yes,Yes"), "{active}");

    let usage = keys(&["usage", live_id]);
    assert!(
        usage.contains("Requests today:      0 of unlimited")
            && usage.contains("Patients today:      0 of 5000"),
        "{usage}"
    );
    let stats = keys(&["stats", "--days", "3"]);
    assert!(stats.contains("Keys:                2 (1 active, 1 demo, 1 live)"), "{stats}");
    assert!(stats.contains("Used in 3 days:      0"), "{stats}");
    let limits = keys(&["limits", live_id, "--daily", "5", "--minute", "2"]);
    assert!(
        limits.contains("requests/minute  60 → 2") && limits.contains("requests/day     unlimited → 5"),
        "{limits}"
    );
    let extended = keys(&["extend", live_id, "--days", "3"]);
    assert!(extended.contains("from Never to"), "{extended}");
    let shown = keys(&["show", live_id]);
    assert!(
        shown.contains("Status:              inactive") && shown.contains("Requests/day:        5"),
        "{shown}"
    );
}

/// A reader that goes away (`| head -1`) ends the program quietly: no panic,
/// exit 0.
#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [&["presets"][..], &["generate", "-q", "-n", "2000", "-f", "ndjson", "-o", "-"][..]] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("patientgen"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the reading end before the program writes anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Issue #7.9: upstream's laxer inputs work from a file too, and the ignored
/// facility is reported on stderr.
#[test]
fn alpha2_codes_and_a_facility_without_a_role_are_accepted() {
    let dir = TempDir::new().expect("tempdir");
    let file = dir.path().join("upstream.json");
    std::fs::write(
        &file,
        r#"{"name": "Upstream", "total_patients": 30, "seed": 2,
            "front_configs": [{"id": "f", "name": "F", "casualty_rate": 1.0, "nationality_distribution": [{"nationality_code": "US", "percentage": 60}, {"nationality_code": "GB", "percentage": 40}]}],
            "facility_configs": [{"id": "test_facility", "name": "Test Facility", "kia_rate": 0.1, "rtd_rate": 0.3}]}"#,
    )
    .expect("write");
    patientgen().args(["scenario", "validate"]).arg(&file).assert().success().stderr(
        predicate::str::contains("warning:")
            .and(predicate::str::contains("facility_configs -> 0: ignored"))
            .and(predicate::str::contains("test_facility")),
    );
    let patients = generate_from_scenario(&file, dir.path());
    assert_eq!(patients.len(), 30);
    assert!(patients.iter().all(|p| p["nationality"] == "USA" || p["nationality"] == "GBR"));
}

/// The CLI takes any count: its memory does not grow with it (the per-job
/// ceiling is the service's). 3,000,000 patients of the cheapest format are
/// started and read until the reader has seen enough; the whole run is in
/// docs/BENCHMARKS.md (too slow for a debug build in CI).
#[test]
fn any_count_is_taken() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("patientgen"))
        .args(["generate", "-q", "-n", "3000000", "--seed", "1", "-f", "csv", "-o", "-"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let header = lines.next().expect("a header").expect("text");
    assert!(header.starts_with("patient_id,"), "{header}");
    for expected in 0..20_000u32 {
        let row = lines.next().expect("a row").expect("text");
        assert!(row.starts_with(&format!("{expected},")), "row {expected}: {row}");
    }
    // The reader goes away: the run ends quietly (exit 0, as `| head` would).
    drop(lines);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("must be between"), "{stderr}");
}

/// Entries of a directory whose names contain `part`.
fn entries_with(dir: &Path, part: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(part))
        .collect();
    names.sort();
    names
}

/// Starts a long run (1,000,000 FHIR patients) into `dir` and waits until its
/// temporary file exists; returns the child and that file's name.
fn start_long_run(dir: &Path) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("patientgen"))
        .args(["generate", "-q", "-n", "1000000", "--seed", "1", "-f", "fhir", "-o"])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let wanted = format!(".patients.fhir.ndjson.partial-{}", child.id());
    // Waits for a state, not for a time: the file appears or the run ends.
    loop {
        if dir.is_dir() && entries_with(dir, ".partial-").contains(&wanted) {
            return (child, wanted);
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("the run ended before writing: {status}");
        }
        std::thread::yield_now();
    }
}

/// Ctrl-C (SIGINT) or SIGTERM during `generate` removes the temporary file,
/// says so, and exits with 130. The signal goes to the real binary.
#[cfg(unix)]
#[test]
fn an_interrupted_run_removes_its_partial_file() {
    for signal in ["INT", "TERM", "HUP"] {
        let dir = TempDir::new().expect("tempdir");
        let out_dir = dir.path().join("out");
        let (child, partial) = start_long_run(&out_dir);
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains("interrupted: removed") && stderr.contains(&partial),
            "SIG{signal}: {stderr}"
        );
        let left: Vec<String> = entries_with(&out_dir, "");
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
    }
}

/// A run killed outright (SIGKILL; TerminateProcess on Windows) cannot clean
/// up: the next run into the same directory removes what it left and says so,
/// but leaves alone the temporary file of a run still writing there.
#[test]
fn a_killed_runs_partial_file_is_removed_by_the_next_run() {
    let dir = TempDir::new().expect("tempdir");
    let out_dir = dir.path().join("out");
    let (mut running, partial) = start_long_run(&out_dir);
    // Another run beside a live one: the live one's file is kept, nothing said.
    let out = patientgen()
        .args(["generate", "-q", "-n", "5", "-f", "csv", "-o"])
        .arg(&out_dir)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("partial"));
    assert_eq!(entries_with(&out_dir, ".partial-"), vec![partial.clone()]);
    running.kill().expect("kill");
    running.wait().expect("wait");
    assert_eq!(entries_with(&out_dir, ".partial-"), vec![partial.clone()], "SIGKILL leaves the file");
    let out = patientgen()
        .args(["generate", "-q", "-n", "5", "-f", "ndjson", "-o"])
        .arg(&out_dir)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("removed {}", out_dir.join(&partial).display())), "{stderr}");
    assert!(stderr.contains("left by an interrupted run"), "{stderr}");
    assert!(entries_with(&out_dir, ".partial-").is_empty());
    assert_eq!(entries_with(&out_dir, "patients"), vec!["patients.csv", "patients.ndjson"]);
}
