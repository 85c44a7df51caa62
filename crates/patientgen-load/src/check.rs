//! Checks of what the service returns: a job's status echoes its request, its
//! ZIP holds exactly the requested formats with exactly the requested patients,
//! and a stream has one line per patient.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;

/// Output formats of the API and their file names inside a job's ZIP.
pub const FORMATS: [(&str, &str); 5] = [
    ("json", "patients.json"),
    ("ndjson", "patients.ndjson"),
    ("csv", "patients.csv"),
    ("fhir", "patients.fhir.ndjson"),
    ("xml", "patients.xml"),
];

/// What a job asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequest {
    /// Patients.
    pub patients: u32,
    /// API format names, in [`FORMATS`] order, no repeats.
    pub formats: Vec<&'static str>,
    /// Seed.
    pub seed: u64,
}

impl JobRequest {
    /// The request body of `POST /api/v1/generation/`.
    pub fn body(&self) -> Value {
        serde_json::json!({
            "configuration": { "total_patients": self.patients, "seed": self.seed },
            "output_formats": self.formats,
        })
    }

    /// The file names the ZIP must hold (manifest included), sorted.
    pub fn expected_entries(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> =
            self.formats.iter().filter_map(|f| file_name(f)).map(String::from).collect();
        names.insert("manifest.json".into());
        names
    }
}

/// File name of an API format.
pub fn file_name(format: &str) -> Option<&'static str> {
    FORMATS.iter().find(|(f, _)| *f == format).map(|(_, n)| *n)
}

/// `GET /api/v1/jobs/{id}` of a completed job: the seed, the formats and the
/// patient count echo the request.
pub fn job_status(job: &Value, req: &JobRequest) -> Result<(), String> {
    let seed = job.pointer("/config/seed").and_then(Value::as_u64);
    if seed != Some(req.seed) {
        return Err(format!("job config seed {seed:?}, requested {}", req.seed));
    }
    let summary_seed = job.pointer("/summary/seed").and_then(Value::as_u64);
    if summary_seed != Some(req.seed) {
        return Err(format!("job summary seed {summary_seed:?}, requested {}", req.seed));
    }
    let total = job.pointer("/summary/total_patients").and_then(Value::as_u64);
    if total != Some(u64::from(req.patients)) {
        return Err(format!("job summary total_patients {total:?}, requested {}", req.patients));
    }
    let formats: BTreeSet<&str> = job
        .pointer("/config/output_formats")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let wanted: BTreeSet<&str> = req.formats.iter().copied().collect();
    if formats != wanted {
        return Err(format!("job output_formats {formats:?}, requested {wanted:?}"));
    }
    Ok(())
}

/// A job's ZIP: exactly the requested files plus the manifest; the manifest
/// echoes seed and count; every file holds exactly patients `0..n`.
pub fn job_zip(bytes: &[u8], req: &JobRequest) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a ZIP: {e}"))?;
    let names: BTreeSet<String> = zip
        .file_names()
        .map(|n| n.map(String::from))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("ZIP entry name: {e}"))?;
    let expected = req.expected_entries();
    if names != expected {
        return Err(format!("ZIP holds {names:?}, expected {expected:?}"));
    }
    let manifest: Value = serde_json::from_slice(&entry(&mut zip, "manifest.json")?)
        .map_err(|e| format!("manifest.json: {e}"))?;
    if manifest["seed"].as_u64() != Some(req.seed) {
        return Err(format!("manifest seed {}, requested {}", manifest["seed"], req.seed));
    }
    if manifest.pointer("/counts/patients").and_then(Value::as_u64) != Some(u64::from(req.patients)) {
        return Err(format!(
            "manifest counts.patients {}, requested {}",
            manifest["counts"]["patients"], req.patients
        ));
    }
    for format in &req.formats {
        let Some(name) = file_name(format) else { return Err(format!("unknown format {format}")) };
        let data = entry(&mut zip, name)?;
        file(format, &data, req).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

fn entry(zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>, String> {
    let mut f = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    let mut out = Vec::new();
    f.read_to_end(&mut out).map_err(|e| format!("{name}: {e}"))?;
    Ok(out)
}

/// One output file of a job.
pub fn file(format: &str, data: &[u8], req: &JobRequest) -> Result<(), String> {
    let n = u64::from(req.patients);
    match format {
        "json" => {
            let patients: Vec<Value> =
                serde_json::from_slice(data).map_err(|e| format!("not a JSON array: {e}"))?;
            ids_are_0_to_n(patients.iter().map(|p| p["id"].as_u64()), n)
        }
        "ndjson" => ndjson_patients(data, n),
        "csv" => {
            let mut reader = csv::Reader::from_reader(data);
            let column = reader
                .headers()
                .map_err(|e| e.to_string())?
                .iter()
                .position(|h| h == "patient_id")
                .ok_or("no patient_id column")?;
            let ids: Vec<Option<u64>> = reader
                .records()
                .map(|r| r.ok().and_then(|r| r.get(column).and_then(|v| v.parse().ok())))
                .collect();
            ids_are_0_to_n(ids.into_iter(), n)
        }
        "fhir" => {
            let mut bundles = 0u64;
            for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let v: Value =
                    serde_json::from_slice(line).map_err(|e| format!("line {}: {e}", bundles + 1))?;
                if v["resourceType"] != "Bundle" {
                    return Err(format!("line {} is not a Bundle", bundles + 1));
                }
                bundles += 1;
            }
            if bundles == n { Ok(()) } else { Err(format!("{bundles} bundles, expected {n}")) }
        }
        "xml" => {
            let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
            let doc = roxmltree::Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
            let root = doc.root_element();
            let seed = root.attribute("seed").and_then(|s| s.parse::<u64>().ok());
            if seed != Some(req.seed) {
                return Err(format!("seed attribute {seed:?}, requested {}", req.seed));
            }
            let ids = root.children().filter(|c| c.has_tag_name("item")).map(|item| {
                item.children()
                    .find(|c| c.has_tag_name("id"))
                    .and_then(|c| c.text())
                    .and_then(|t| t.parse().ok())
            });
            ids_are_0_to_n(ids, n)
        }
        other => Err(format!("unknown format {other}")),
    }
}

/// NDJSON patients (a job's `patients.ndjson` or a stream): one JSON object
/// per line, ids exactly `0..n`.
pub fn ndjson_patients(data: &[u8], n: u64) -> Result<(), String> {
    let mut ids = Vec::new();
    for (i, line) in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()).enumerate() {
        let v: Value = serde_json::from_slice(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        ids.push(v["id"].as_u64());
    }
    ids_are_0_to_n(ids.into_iter(), n)
}

fn ids_are_0_to_n(ids: impl Iterator<Item = Option<u64>>, n: u64) -> Result<(), String> {
    let mut seen = vec![false; usize::try_from(n).map_err(|e| e.to_string())?];
    let mut count = 0u64;
    for id in ids {
        count += 1;
        let id = id.ok_or_else(|| format!("record {count} has no numeric id"))?;
        match usize::try_from(id).ok().and_then(|i| seen.get_mut(i)) {
            Some(slot) if !*slot => *slot = true,
            Some(_) => return Err(format!("id {id} appears twice")),
            None => return Err(format!("id {id} is outside 0..{n}")),
        }
    }
    if count == n { Ok(()) } else { Err(format!("{count} patients, expected {n}")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn req(formats: &[&'static str]) -> JobRequest {
        JobRequest { patients: 2, formats: formats.to_vec(), seed: 7 }
    }

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    const MANIFEST: &[u8] = br#"{"seed": 7, "counts": {"patients": 2}}"#;
    const JSON: &[u8] = br#"[{"id": 0}, {"id": 1}]"#;
    const CSV: &[u8] = b"patient_id,name\n0,a\n1,\"b\nc\"\n";
    const XML: &[u8] =
        b"<?xml version=\"1.0\"?><PatientBundles seed=\"7\"><item><id>0</id></item>\n<item><id>1</id></item></PatientBundles>";

    #[test]
    fn a_matching_zip_passes() {
        let z = zip_of(&[
            ("patients.json", JSON),
            ("patients.csv", CSV),
            ("patients.xml", XML),
            ("patients.fhir.ndjson", b"{\"resourceType\":\"Bundle\"}\n{\"resourceType\":\"Bundle\"}\n"),
            ("patients.ndjson", b"{\"id\":1}\n{\"id\":0}\n"),
            ("manifest.json", MANIFEST),
        ]);
        assert_eq!(job_zip(&z, &req(&["json", "ndjson", "csv", "fhir", "xml"])), Ok(()));
    }

    #[test]
    fn missing_extra_or_short_files_fail() {
        let extra = zip_of(&[("patients.json", JSON), ("patients.csv", CSV), ("manifest.json", MANIFEST)]);
        assert!(job_zip(&extra, &req(&["json"])).unwrap_err().contains("ZIP holds"));
        let short = zip_of(&[("patients.json", br#"[{"id": 0}]"#), ("manifest.json", MANIFEST)]);
        assert!(job_zip(&short, &req(&["json"])).unwrap_err().contains("1 patients, expected 2"));
        let twice = zip_of(&[("patients.json", br#"[{"id": 0}, {"id": 0}]"#), ("manifest.json", MANIFEST)]);
        assert!(job_zip(&twice, &req(&["json"])).unwrap_err().contains("twice"));
        let seed = zip_of(&[
            ("patients.json", JSON),
            ("manifest.json", br#"{"seed": 8, "counts": {"patients": 2}}"#),
        ]);
        assert!(job_zip(&seed, &req(&["json"])).unwrap_err().contains("seed"));
        assert!(job_zip(b"not a zip", &req(&["json"])).is_err());
    }

    #[test]
    fn job_status_must_echo_the_request() {
        let good = serde_json::json!({
            "config": {"seed": 7, "output_formats": ["csv", "json"]},
            "summary": {"seed": 7, "total_patients": 2}
        });
        assert_eq!(job_status(&good, &req(&["json", "csv"])), Ok(()));
        let mut bad = good.clone();
        bad["summary"]["total_patients"] = 3.into();
        assert!(job_status(&bad, &req(&["json", "csv"])).is_err());
        assert!(job_status(&good, &req(&["json"])).is_err());
    }

    #[test]
    fn streams_are_counted_by_line() {
        assert_eq!(ndjson_patients(b"{\"id\":0}\n{\"id\":1}\n{\"id\":2}\n", 3), Ok(()));
        assert!(ndjson_patients(b"{\"id\":0}\n{\"id\":1}\n", 3).is_err());
        assert!(ndjson_patients(b"{\"id\":0}\n{\"id\":1}\n{\"id\":7}\n", 3).is_err());
        assert!(ndjson_patients(b"{\"id\":0}\nnot json\n", 2).is_err());
    }
}
