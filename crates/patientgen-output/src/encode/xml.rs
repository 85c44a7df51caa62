//! XML: one well-formed document, root `PatientBundles` (upstream's root), one
//! `item` element per patient whose children mirror the JSON record.

use super::Encoder;
use crate::{Metadata, OutputError};
use patientgen_core::Patient;
use quick_xml::escape::escape;

/// `patients.xml`.
#[derive(Debug, Clone, Copy)]
pub struct XmlEncoder;

impl Encoder for XmlEncoder {
    fn header(&self, meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError> {
        let mut head = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PatientBundles");
        let attrs = [
            ("generator", meta.generator.to_string()),
            ("generator_version", meta.generator_version.to_string()),
            ("patient_count", meta.patient_count.to_string()),
            ("seed", meta.seed.to_string()),
            ("scenario", meta.scenario.clone()),
            ("generated_at", meta.generated_at_iso.clone()),
        ];
        for (k, v) in attrs {
            head.push_str(&format!(" {k}=\"{}\"", escape(v.as_str())));
        }
        head.push_str(">\n");
        out.extend_from_slice(head.as_bytes());
        Ok(())
    }

    fn record(&self, patient: &Patient<'_>, _first: bool, out: &mut Vec<u8>) -> Result<(), OutputError> {
        let mut text = String::with_capacity(4096);
        let ser = quick_xml::se::Serializer::with_root(&mut text, Some("item"))?;
        serde::Serialize::serialize(patient, ser)?;
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
        Ok(())
    }

    fn footer(&self, _meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError> {
        out.extend_from_slice(b"</PatientBundles>\n");
        Ok(())
    }
}
