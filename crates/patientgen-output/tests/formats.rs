//! Every format parses with a standard reader, and output is byte-identical
//! whatever the number of threads.

mod common;

use patientgen_crypto::decrypt_stream;
use patientgen_output::encode::EncodeOptions;
use patientgen_output::package::{Manifest, ManifestCounts, ManifestFile, write_zip};
use patientgen_output::pipeline::{GenerateOptions, generate};
use patientgen_output::read::for_each_patient;
use patientgen_output::sink::{Encryption, HashingWriter, Layered, Layers};
use patientgen_output::{Format, JsonEnvelope, OutputError};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const ALL: [Format; 5] = [Format::Json, Format::Ndjson, Format::Csv, Format::Fhir, Format::Xml];

#[test]
fn same_seed_gives_identical_bytes_for_any_thread_count() {
    let s = common::preset("nato_article_5", 3000, 1234);
    let one = common::render(&s, &ALL, 1, EncodeOptions::default());
    let two = common::render(&s, &ALL, 2, EncodeOptions::default());
    let five = common::render(&s, &ALL, 5, EncodeOptions::default());
    for (i, f) in ALL.iter().enumerate() {
        assert!(!one[i].is_empty());
        assert!(one[i] == two[i] && one[i] == five[i], "{f} differs between thread counts");
    }
    let other = common::preset("nato_article_5", 3000, 1235);
    let different = common::render(&other, &[Format::Ndjson], 2, EncodeOptions::default());
    assert_ne!(different[0], one[1]);
}

#[test]
fn json_shapes_parse() {
    let s = common::preset("default", 500, 3);
    let object = common::render(&s, &[Format::Json], 2, EncodeOptions::default()).remove(0);
    let v: serde_json::Value = serde_json::from_slice(&object).expect("JSON object");
    assert_eq!(v["metadata"]["patient_count"], 500);
    assert_eq!(v["metadata"]["seed"], 3);
    assert_eq!(v["patients"].as_array().map(Vec::len), Some(500));
    let array = common::render(&s, &[Format::Json], 2, EncodeOptions { json_envelope: JsonEnvelope::Array })
        .remove(0);
    let a: Vec<serde_json::Value> = serde_json::from_slice(&array).expect("bare array");
    assert_eq!(a.len(), 500);
    assert_eq!(a[0], v["patients"][0]);
    // Upstream viewer fields.
    for p in &a {
        for key in [
            "id",
            "nationality",
            "triage_category",
            "final_status",
            "movement_timeline",
            "injury_time",
            "injury_timestamp",
            "demographics",
        ] {
            assert!(p.get(key).is_some(), "{key} missing");
        }
        assert!(p["injury_timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
    let ndjson = common::render(&s, &[Format::Ndjson], 1, EncodeOptions::default()).remove(0);
    let lines: Vec<&[u8]> = ndjson.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 500);
    for l in lines {
        serde_json::from_slice::<serde_json::Value>(l).expect("line parses");
    }
}

#[test]
fn csv_parses_with_real_names_and_quoting() {
    let s = common::scenario(
        r#"{"total_patients": 300, "seed": 9, "front_configs": [{"id": "x", "name": "North, \"Hill\" sector", "casualty_rate": 1, "nationality_distribution": [{"nationality_code": "CZE", "percentage": 100}]}]}"#,
    );
    let csv_bytes = common::render(&s, &[Format::Csv], 2, EncodeOptions::default()).remove(0);
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    let headers = reader.headers().expect("header").clone();
    assert_eq!(&headers[0], "patient_id");
    assert_eq!(&headers[11], "injury_timestamp");
    let mut rows = 0;
    for row in reader.records() {
        let row = row.expect("row parses");
        assert_eq!(row.len(), headers.len());
        assert_eq!(&row[7], "North, \"Hill\" sector");
        assert_ne!(&row[1], "Unknown Unknown");
        assert!(["KIA", "RTD", "Remains_Role4"].contains(&&row[8]));
        rows += 1;
    }
    assert_eq!(rows, 300);
}

#[test]
fn xml_is_one_well_formed_document() {
    let s = common::preset("urban_assault", 400, 2);
    let xml = common::render(&s, &[Format::Xml], 2, EncodeOptions::default()).remove(0);
    let text = String::from_utf8(xml).expect("utf-8");
    let doc = roxmltree::Document::parse(&text).expect("well-formed");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "PatientBundles");
    assert_eq!(root.attribute("patient_count"), Some("400"));
    let items: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(items.len(), 400);
    assert!(items[0].children().any(|c| c.tag_name().name() == "movement_timeline"));
}

#[test]
fn layers_round_trip() {
    let plain = b"{\"hello\": \"world\"}\n".repeat(5000);
    for (gzip, password) in
        [(true, None), (false, Some("hunter22".to_string())), (true, Some("hunter22".to_string()))]
    {
        let encryption = password.clone().map(|password| Encryption::Password { password, iterations: 1000 });
        let layers = Layers { gzip, encryption };
        let mut sink = Layered::new(HashingWriter::new(Vec::new()), &layers).expect("layers");
        sink.write_all(&plain).expect("write");
        let (bytes, n, sha) = sink.finish().expect("finish").finish().expect("hash");
        assert_eq!(n as usize, bytes.len());
        assert_eq!(sha.len(), 64);
        let decrypted = match &password {
            Some(pw) => {
                let mut out = Vec::new();
                decrypt_stream(bytes.as_slice(), &mut out, pw.as_bytes()).expect("decrypts");
                out
            }
            None => bytes,
        };
        let content = if gzip {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(decrypted.as_slice()).read_to_end(&mut out).expect("gunzip");
            out
        } else {
            decrypted
        };
        assert_eq!(content, plain);
    }
}

#[test]
fn zip_holds_the_files_and_a_truthful_manifest() {
    let s = common::preset("training_exercise", 100, 6);
    let rendered = common::render(&s, &[Format::Json, Format::Csv], 2, EncodeOptions::default());
    let files: Vec<(ManifestFile, &[u8])> = [Format::Json, Format::Csv]
        .iter()
        .zip(&rendered)
        .map(|(f, bytes)| {
            use sha2::Digest;
            (
                ManifestFile {
                    name: f.file_name().into(),
                    format: f.as_str().into(),
                    bytes: bytes.len() as u64,
                    sha256: hex::encode(sha2::Sha256::digest(bytes)),
                    compressed: false,
                    encrypted: false,
                },
                bytes.as_slice(),
            )
        })
        .collect();
    let summary = {
        let mut b = patientgen_core::SummaryBuilder::default();
        let g = patientgen_core::Generator::new(&s);
        for slot in g.plan() {
            b.add(&patientgen_core::summary::PatientFacts::of(&g.patient(&slot)));
        }
        b.build()
    };
    let manifest = Manifest {
        manifest_version: 1,
        generator: "patientgen",
        generator_version: patientgen_core::VERSION,
        generated_at: "2025-06-01T00:00:00Z".into(),
        seed: 6,
        scenario: serde_json::json!({"preset_id": "training_exercise"}),
        counts: ManifestCounts::from_summary(&summary),
        files: files.iter().map(|(m, _)| m.clone()).collect(),
    };
    let zipped = write_zip(Vec::new(), files, &manifest).expect("zip");
    let again = {
        let files: Vec<(ManifestFile, &[u8])> =
            manifest.files.iter().cloned().zip(rendered.iter().map(Vec::as_slice)).collect();
        write_zip(Vec::new(), files, &manifest).expect("zip")
    };
    assert_eq!(zipped, again, "ZIP bytes are reproducible");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).expect("readable zip");
    let names: Vec<String> =
        archive.file_names().map(|n| n.map(|s| s.to_string())).collect::<Result<_, _>>().expect("names");
    assert_eq!(names, vec!["patients.json", "patients.csv", "manifest.json"]);
    let mut m = String::new();
    archive.by_name("manifest.json").expect("manifest").read_to_string(&mut m).expect("read");
    let m: serde_json::Value = serde_json::from_str(&m).expect("manifest json");
    assert_eq!(m["counts"]["patients"], 100);
    for f in m["files"].as_array().into_iter().flatten() {
        let mut content = Vec::new();
        archive
            .by_name(f["name"].as_str().unwrap_or(""))
            .expect("entry")
            .read_to_end(&mut content)
            .expect("read");
        use sha2::Digest;
        assert_eq!(f["sha256"].as_str(), Some(hex::encode(sha2::Sha256::digest(&content)).as_str()));
        assert_eq!(f["bytes"].as_u64(), Some(content.len() as u64));
    }
}

#[test]
fn cancel_and_progress() {
    let s = common::preset("default", 5000, 1);
    let g = patientgen_core::Generator::new(&s);
    let encoders = vec![patientgen_output::encode::encoder_for(Format::Ndjson, 1, EncodeOptions::default())];
    let cancel = AtomicBool::new(true);
    let mut buf = Vec::new();
    let result = {
        let mut sinks: Vec<&mut dyn Write> = vec![&mut buf];
        generate(
            &g,
            &common::meta(&s),
            &encoders,
            &mut sinks,
            &GenerateOptions { threads: 2, cancel: Some(&cancel), progress: None },
        )
    };
    assert!(matches!(result, Err(OutputError::Cancelled)));
    let seen = AtomicU64::new(0);
    let progress = |n: u64| seen.store(n, Ordering::Relaxed);
    let mut buf = Vec::new();
    let summary = {
        let mut sinks: Vec<&mut dyn Write> = vec![&mut buf];
        generate(
            &g,
            &common::meta(&s),
            &encoders,
            &mut sinks,
            &GenerateOptions { threads: 2, cancel: None, progress: Some(&progress) },
        )
        .expect("runs")
    };
    assert_eq!(seen.load(Ordering::Relaxed), 5000);
    assert_eq!(summary.build().total_patients, 5000);
}

#[test]
fn readers_stream_back_what_writers_wrote() {
    let s = common::preset("default", 250, 4);
    for (format, envelope) in [
        (Format::Json, JsonEnvelope::Object),
        (Format::Json, JsonEnvelope::Array),
        (Format::Ndjson, JsonEnvelope::Object),
    ] {
        let bytes = common::render(&s, &[format], 2, EncodeOptions { json_envelope: envelope }).remove(0);
        let mut ids = Vec::new();
        let n = for_each_patient(bytes.as_slice(), |p| {
            let v: serde_json::Value = serde_json::from_str(p).map_err(|e| e.to_string())?;
            ids.push(v["id"].as_u64().unwrap_or(u64::MAX));
            Ok(())
        })
        .expect("reads");
        assert_eq!(n, 250);
        assert_eq!(ids, (0..250).collect::<Vec<u64>>());
    }
}

#[test]
fn a_package_holds_each_format_as_generated_with_its_layers_and_manifest() {
    use patientgen_output::package::{PackageRequest, write_package};
    let config =
        serde_json::from_value(serde_json::json!({"total_patients": 120, "seed": 9})).expect("config");
    let s = common::scenario(r#"{"total_patients": 120, "seed": 9}"#);
    let formats = [Format::Json, Format::Csv];
    let plain = common::render(&s, &formats, 1, EncodeOptions::default());
    for gzip in [false, true] {
        let staging = tempfile::tempdir().expect("staging");
        let layers = Layers { gzip, encryption: None };
        let request = PackageRequest {
            scenario: &s,
            config: &config,
            meta: &common::meta(&s),
            formats: &formats,
            encode: EncodeOptions::default(),
            file_layers: &layers,
            staging: staging.path(),
            generate: &GenerateOptions { threads: 2, ..Default::default() },
        };
        let (zipped, package) = write_package(&request, Vec::new()).expect("package");
        assert_eq!(package.summary.total_patients, 120);
        let suffix = if gzip { ".gz" } else { "" };
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).expect("readable zip");
        for ((file, format), expected) in package.files.iter().zip(formats).zip(&plain) {
            assert_eq!(file.entry.name, format!("{}{suffix}", format.file_name()));
            assert_eq!(file.entry.compressed, gzip);
            let staged = std::fs::read(&file.path).expect("staged file stays for the caller");
            use sha2::Digest;
            assert_eq!(file.entry.sha256, hex::encode(sha2::Sha256::digest(&staged)));
            assert_eq!(file.entry.bytes, staged.len() as u64);
            let mut inside = Vec::new();
            archive.by_name(&file.entry.name).expect("entry").read_to_end(&mut inside).expect("read");
            assert_eq!(inside, staged);
            let content = if gzip {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(staged.as_slice()).read_to_end(&mut out).expect("gunzip");
                out
            } else {
                staged
            };
            assert_eq!(&content, expected, "the same bytes as generating the format alone");
        }
        let mut m = String::new();
        archive.by_name("manifest.json").expect("manifest").read_to_string(&mut m).expect("read");
        let m: serde_json::Value = serde_json::from_str(&m).expect("manifest json");
        assert_eq!(m["scenario"], serde_json::json!({"total_patients": 120, "seed": 9}));
        assert_eq!(m["files"].as_array().map(Vec::len), Some(2));
    }
}
