//! Reading patients back from files we (or upstream) wrote: JSON objects
//! `{metadata, patients}`, bare arrays, NDJSON, optionally gzipped, one record
//! at a time (bounded memory whatever the file size).

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

/// Errors while reading.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Not a patients file.
    #[error("{0}")]
    Format(String),
    /// The callback rejected a record.
    #[error("record {index}: {message}")]
    Record {
        /// 0-based record number.
        index: u64,
        /// What the callback said was wrong.
        message: String,
    },
}

type Callback<'f> = dyn FnMut(&str) -> Result<(), String> + 'f;

/// Calls `f` with the JSON text of every patient in `input`. Detects gzip,
/// encrypted files (an error), JSON objects, arrays and NDJSON.
pub fn for_each_patient<R: Read>(
    input: R,
    mut f: impl FnMut(&str) -> Result<(), String>,
) -> Result<u64, ReadError> {
    read_any(Box::new(input), &mut f)
}

fn read_any(input: Box<dyn Read + '_>, f: &mut Callback<'_>) -> Result<u64, ReadError> {
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let head = reader.fill_buf()?.to_vec();
    if head.starts_with(&[0x1f, 0x8b]) {
        return read_any(Box::new(flate2::read::GzDecoder::new(reader)), f);
    }
    if patientgen_crypto::is_encrypted(&head) {
        return Err(ReadError::Format("the file is encrypted: run `patientgen decrypt` first".into()));
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let mut count = 0u64;
    match first {
        None => Ok(0),
        Some(b'{') | Some(b'[') if !looks_like_ndjson(&head) => {
            let mut de = serde_json::Deserializer::from_reader(reader);
            let seed = Root { f, count: &mut count };
            seed.deserialize(&mut de).map_err(|e| match e.classify() {
                serde_json::error::Category::Data if e.to_string().starts_with("record ") => {
                    ReadError::Format(e.to_string())
                }
                _ => ReadError::Format(format!("not a patients JSON file: {e}")),
            })?;
            de.end().map_err(|e| ReadError::Format(format!("trailing data after the JSON document: {e}")))?;
            Ok(count)
        }
        Some(_) => {
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    break;
                }
                let text = line.trim();
                if text.is_empty() {
                    continue;
                }
                f(text).map_err(|message| ReadError::Record { index: count, message })?;
                count += 1;
            }
            Ok(count)
        }
    }
}

/// An NDJSON file starts with a complete object on its first line.
fn looks_like_ndjson(head: &[u8]) -> bool {
    let Some(end) = head.iter().position(|b| *b == b'\n') else {
        return false;
    };
    let line = &head[..end];
    line.iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'}')
        && serde_json::from_slice::<IgnoredAny>(line).is_ok()
}

struct Root<'a, 'f> {
    f: &'a mut Callback<'f>,
    count: &'a mut u64,
}

impl<'de> DeserializeSeed<'de> for Root<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of patients or an object with a `patients` array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Patients { f: self.f, count: self.count }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "patients" {
                map.next_value_seed(Patients { f: &mut *self.f, count: &mut *self.count })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if found { Ok(()) } else { Err(serde::de::Error::custom("no `patients` array")) }
    }
}

struct Patients<'a, 'f> {
    f: &'a mut Callback<'f>,
    count: &'a mut u64,
}

impl<'de> DeserializeSeed<'de> for Patients<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Patients<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of patients")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            (self.f)(raw.get())
                .map_err(|m| serde::de::Error::custom(format!("record {}: {m}", *self.count)))?;
            *self.count += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        for_each_patient(text.as_bytes(), |p| {
            let v: serde_json::Value = serde_json::from_str(p).map_err(|e| e.to_string())?;
            out.push(v["id"].as_u64().unwrap_or(999));
            Ok(())
        })
        .expect("reads");
        out
    }

    #[test]
    fn reads_every_shape() {
        assert_eq!(ids(r#"{"metadata":{"a":[1]},"patients":[{"id":1},{"id":2}]}"#), vec![1, 2]);
        assert_eq!(ids(r#"[{"id":3}, {"id":4}]"#), vec![3, 4]);
        assert_eq!(ids("{\"id\":5}\n{\"id\":6}\n"), vec![5, 6]);
        assert_eq!(ids("[\n{\"id\":7},{\"id\":8}\n]"), vec![7, 8]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(for_each_patient(&b"{\"nope\": 1}"[..], |_| Ok(())).is_err());
        assert!(for_each_patient(&b"[1, 2"[..], |_| Ok(())).is_err());
        assert!(for_each_patient(&b"PGENENC\0rest"[..], |_| Ok(())).is_err());
    }
}
