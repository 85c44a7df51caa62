//! Nations (`data/nations/*.json`) and the force's demography (`data/demography.json`).

use super::{DataError, parse};
use crate::patient::service_number::ServiceFormat;
use crate::rng::WeightedTable;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Index of a nation in the [`NationTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NationId(pub u16);

/// A family name with its female form where the language genders surnames.
#[derive(Debug, Clone, Deserialize)]
pub struct FamilyName {
    /// Male (or only) form.
    pub m: String,
    /// Female form, when different.
    #[serde(default)]
    pub f: Option<String>,
}

/// A national rank title for a NATO rank code.
#[derive(Debug, Clone, Deserialize)]
pub struct Rank {
    /// STANAG 2116 code, e.g. `OR-4`.
    pub code: String,
    /// Title in the national language.
    pub title: String,
}

#[derive(Debug, Clone, Deserialize)]
struct GivenNames {
    male: Vec<String>,
    female: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ServiceNumberFormat {
    pattern: String,
    checksum: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Religion {
    code: Option<String>,
    weight: f64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct MeanSd {
    mean: f64,
    sd: f64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct BySex {
    male: MeanSd,
    female: MeanSd,
}

#[derive(Debug, Clone, Deserialize)]
struct NationFile {
    code: String,
    alpha2: String,
    name: String,
    languages: Vec<String>,
    given_names: GivenNames,
    family_names: Vec<FamilyName>,
    ranks: Vec<Rank>,
    units: Vec<String>,
    service_number: ServiceNumberFormat,
    religion: Vec<Religion>,
    blood_groups: BTreeMap<String, f64>,
    height_cm: BySex,
    weight_kg: BySex,
}

/// How a service number is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// No check character.
    None,
    /// The last digit is a Luhn check digit.
    Luhn,
    /// A final letter from the Spanish DNI table.
    Dni,
}

/// One nation with everything demographics needs.
#[derive(Debug)]
pub struct Nation {
    /// ISO 3166-1 alpha-3.
    pub code: String,
    /// ISO 3166-1 alpha-2 (accepted wherever `code` is).
    pub alpha2: String,
    /// English name.
    pub name: String,
    /// ISO 639-1 languages, main first.
    pub languages: Vec<String>,
    /// Male given names.
    pub male_names: Vec<String>,
    /// Female given names.
    pub female_names: Vec<String>,
    /// Family names, each with its weight in the population.
    pub family_names: Vec<FamilyName>,
    /// Rank titles by NATO code.
    pub ranks: Vec<Rank>,
    /// Unit names a patient's `unit` is drawn from.
    pub units: Vec<String>,
    /// Service number pattern (see the nation schema).
    pub service_number_pattern: String,
    /// Check character of the service number.
    pub service_number_checksum: Checksum,
    /// The compiled service-number format.
    pub service_format: ServiceFormat,
    /// Religion codes (`None` = not stated) and their draw table.
    pub religions: Vec<Option<String>>,
    /// Draw table over `religions`.
    pub religion_table: WeightedTable,
    /// ABO group and Rh sign for each blood-group entry.
    pub blood_groups: Vec<(&'static str, bool)>,
    /// Draw table over `blood_groups`.
    pub blood_table: WeightedTable,
    /// Height mean/sd (male, female).
    pub height: [(f64, f64); 2],
    /// Weight mean/sd (male, female).
    pub weight: [(f64, f64); 2],
    /// Body-mass index as a log-normal (mu, sigma of its logarithm), male and
    /// female, fitted so that BMI × height² has the file's weight mean and SD.
    pub bmi: [(f64, f64); 2],
}

/// All nations, in alphabetical order of code.
#[derive(Debug)]
pub struct NationTable {
    nations: Vec<Nation>,
    by_code: HashMap<String, NationId>,
}

macro_rules! nation_files {
    ($($code:literal),+ $(,)?) => {
        &[$(($code, include_str!(concat!("../../data/nations/", $code, ".json")))),+]
    };
}

/// The embedded nation files (32 NATO members plus partners used by presets).
const NATION_FILES: &[(&str, &str)] = nation_files!(
    "alb", "aus", "bel", "bgr", "can", "cze", "deu", "dnk", "esp", "est", "fin", "fra", "gbr", "grc", "hrv",
    "hun", "isl", "ita", "ltu", "lux", "lva", "mkd", "mne", "nld", "nor", "nzl", "pol", "prt", "rou", "svk",
    "svn", "swe", "tur", "usa",
);

/// NATO members (ISO alpha-3), as of 2024.
pub const NATO_MEMBERS: [&str; 32] = [
    "ALB", "BEL", "BGR", "CAN", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "ISL", "ITA",
    "LVA", "LTU", "LUX", "MNE", "NLD", "MKD", "NOR", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "TUR",
    "GBR", "USA",
];

const BLOOD_GROUPS: [(&str, &str, bool); 8] = [
    ("O+", "O", true),
    ("O-", "O", false),
    ("A+", "A", true),
    ("A-", "A", false),
    ("B+", "B", true),
    ("B-", "B", false),
    ("AB+", "AB", true),
    ("AB-", "AB", false),
];

impl NationTable {
    pub(crate) fn load() -> Result<Self, DataError> {
        let mut nations = Vec::with_capacity(NATION_FILES.len());
        for (file, text) in NATION_FILES {
            let raw: NationFile = parse("data/nations/*.json", text)
                .map_err(|e| DataError::new("data/nations", format!("{file}: {}", e.message)))?;
            nations.push(Nation::from_file(raw)?);
        }
        nations.sort_by(|a, b| a.code.cmp(&b.code));
        let mut by_code = HashMap::new();
        for (i, n) in nations.iter().enumerate() {
            for code in [&n.code, &n.alpha2] {
                if by_code.insert(code.clone(), NationId(i as u16)).is_some() {
                    return Err(DataError::new(
                        "data/nations",
                        format!("{}: code {code} used twice", n.code),
                    ));
                }
            }
        }
        Ok(Self { nations, by_code })
    }

    /// Looks a nation up by its ISO 3166-1 alpha-3 or alpha-2 code
    /// (case-insensitive): `USA`, `usa`, `US` and `us` are the same nation.
    pub fn find(&self, code: &str) -> Option<NationId> {
        self.by_code.get(&code.to_ascii_uppercase()).copied()
    }

    /// The nation with this id.
    pub fn get(&self, id: NationId) -> &Nation {
        &self.nations[usize::from(id.0)]
    }

    /// All nations.
    pub fn all(&self) -> &[Nation] {
        &self.nations
    }

    /// The 32 NATO members, sorted by English name.
    pub fn nato_members(&self) -> Vec<&Nation> {
        let mut members: Vec<&Nation> =
            NATO_MEMBERS.iter().filter_map(|c| self.find(c).map(|id| self.get(id))).collect();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        members
    }
}

impl Nation {
    fn from_file(raw: NationFile) -> Result<Self, DataError> {
        let file = "data/nations";
        let fail = |m: String| DataError::new(file, format!("{}: {m}", raw.code));
        if raw.given_names.male.len() < 40 || raw.given_names.female.len() < 40 || raw.family_names.len() < 40
        {
            return Err(fail("fewer than 40 names in a list".into()));
        }
        if raw.units.is_empty() || raw.ranks.is_empty() {
            return Err(fail("no units or ranks".into()));
        }
        let checksum = match raw.service_number.checksum.as_str() {
            "none" => Checksum::None,
            "luhn" => Checksum::Luhn,
            "dni" => Checksum::Dni,
            other => return Err(fail(format!("unknown checksum {other}"))),
        };
        let service_format = ServiceFormat::parse(&raw.service_number.pattern, checksum).map_err(fail)?;
        let mut blood_groups = Vec::new();
        let mut blood_weights = Vec::new();
        for (key, abo, rh) in BLOOD_GROUPS {
            let w = raw
                .blood_groups
                .get(key)
                .copied()
                .ok_or_else(|| fail(format!("blood group {key} missing")))?;
            blood_groups.push((abo, rh));
            blood_weights.push(w);
        }
        let religion_table = WeightedTable::new(raw.religion.iter().map(|r| r.weight));
        let religions = raw.religion.into_iter().map(|r| r.code).collect();
        let upper = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase());
        if !upper(&raw.code, 3) || !upper(&raw.alpha2, 2) {
            return Err(fail("code must be 3 and alpha2 2 upper-case letters".into()));
        }
        Ok(Self {
            code: raw.code,
            alpha2: raw.alpha2,
            name: raw.name,
            languages: raw.languages,
            male_names: raw.given_names.male,
            female_names: raw.given_names.female,
            family_names: raw.family_names,
            ranks: raw.ranks,
            units: raw.units,
            service_number_pattern: raw.service_number.pattern,
            service_number_checksum: checksum,
            service_format,
            religions,
            religion_table,
            blood_groups,
            blood_table: WeightedTable::new(blood_weights),
            height: [
                (raw.height_cm.male.mean, raw.height_cm.male.sd),
                (raw.height_cm.female.mean, raw.height_cm.female.sd),
            ],
            weight: [
                (raw.weight_kg.male.mean, raw.weight_kg.male.sd),
                (raw.weight_kg.female.mean, raw.weight_kg.female.sd),
            ],
            bmi: [
                bmi_lognormal(raw.height_cm.male, raw.weight_kg.male),
                bmi_lognormal(raw.height_cm.female, raw.weight_kg.female),
            ],
        })
    }

    /// The national title for a NATO rank code, falling back to the nearest
    /// lower code of the same class when the nation has none.
    pub fn rank_title(&self, code: &str) -> Option<&Rank> {
        if let Some(r) = self.ranks.iter().find(|r| r.code == code) {
            return Some(r);
        }
        let (class, grade) = code.split_once('-')?;
        let grade: u32 = grade.parse().ok()?;
        (1..grade).rev().find_map(|g| {
            let wanted = format!("{class}-{g}");
            self.ranks.iter().find(|r| r.code == wanted)
        })
    }
}

/// The log-normal BMI distribution that, with a height drawn independently from
/// N(height mean, height SD), gives body weights (BMI × height²) with the
/// weight mean and SD of the file (method of moments).
///
/// Drawing BMI independently of height is what makes weight follow height:
/// with the survey figures of the nation files the height–weight correlation
/// comes out at about 0.4–0.5.
fn bmi_lognormal(height_cm: MeanSd, weight_kg: MeanSd) -> (f64, f64) {
    let (mu_h, sd_h) = (height_cm.mean / 100.0, height_cm.sd / 100.0);
    // Moments of h² for a normal h.
    let h2 = mu_h * mu_h + sd_h * sd_h;
    let h4 = mu_h.powi(4) + 6.0 * mu_h * mu_h * sd_h * sd_h + 3.0 * sd_h.powi(4);
    let mean_bmi = weight_kg.mean / h2;
    let second_bmi = (weight_kg.sd * weight_kg.sd + weight_kg.mean * weight_kg.mean) / h4;
    let var_log = (second_bmi / (mean_bmi * mean_bmi)).ln().max(1e-4);
    (mean_bmi.ln() - var_log / 2.0, var_log.sqrt())
}

#[derive(Debug, Clone, Deserialize)]
struct RankBandFile {
    code: String,
    weight: f64,
    age: [u32; 2],
}

#[derive(Debug, Clone, Deserialize)]
struct DemographyFile {
    ranks: Vec<RankBandFile>,
    female_share: BTreeMap<String, f64>,
    default_female_share: f64,
    height_limits_cm: [f64; 2],
    weight_limits_kg: [f64; 2],
    bmi_limits: [f64; 2],
}

/// One band of the rank pyramid.
#[derive(Debug, Clone)]
pub struct RankBand {
    /// NATO code.
    pub code: String,
    /// Youngest and oldest age in this rank.
    pub age: [u32; 2],
}

/// The deployed force's structure.
#[derive(Debug)]
pub struct Demography {
    /// Rank bands.
    pub ranks: Vec<RankBand>,
    /// Draw table over `ranks`.
    pub rank_table: WeightedTable,
    /// Female share per nation id.
    pub female_share: Vec<f64>,
    /// Plausible height range.
    pub height_limits: [f64; 2],
    /// Plausible weight range.
    pub weight_limits: [f64; 2],
    /// Plausible body-mass-index range.
    pub bmi_limits: [f64; 2],
}

impl Demography {
    pub(crate) fn load(nations: &NationTable) -> Result<Self, DataError> {
        let raw: DemographyFile = parse("data/demography.json", include_str!("../../data/demography.json"))?;
        let female_share = nations
            .all()
            .iter()
            .map(|n| raw.female_share.get(&n.code).copied().unwrap_or(raw.default_female_share))
            .collect();
        Ok(Self {
            rank_table: WeightedTable::new(raw.ranks.iter().map(|r| r.weight)),
            ranks: raw.ranks.into_iter().map(|r| RankBand { code: r.code, age: r.age }).collect(),
            female_share,
            height_limits: raw.height_limits_cm,
            weight_limits: raw.weight_limits_kg,
            bmi_limits: raw.bmi_limits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nato_member_has_rich_data() {
        let table = NationTable::load().expect("nations load");
        for code in NATO_MEMBERS {
            let id = table.find(code).unwrap_or_else(|| panic!("{code} missing"));
            let n = table.get(id);
            assert!(n.male_names.len() >= 40 && n.female_names.len() >= 40, "{code}");
            assert!(n.family_names.len() >= 40, "{code}");
            let mut names: Vec<&String> = n.male_names.iter().collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), n.male_names.len(), "{code}: duplicate male names");
            assert!(n.units.len() >= 10, "{code}: units");
            assert!(n.rank_title("OR-4").is_some() && n.rank_title("OF-3").is_some(), "{code}");
        }
        assert_eq!(table.nato_members().len(), 32);
    }

    /// Issue #7.9: upstream's clients send ISO alpha-2 codes (`US`, `GB`).
    #[test]
    fn alpha2_codes_find_the_same_nation() {
        let table = NationTable::load().expect("nations load");
        let pairs = [
            ("AL", "ALB"),
            ("BE", "BEL"),
            ("BG", "BGR"),
            ("CA", "CAN"),
            ("HR", "HRV"),
            ("CZ", "CZE"),
            ("DK", "DNK"),
            ("EE", "EST"),
            ("FI", "FIN"),
            ("FR", "FRA"),
            ("DE", "DEU"),
            ("GR", "GRC"),
            ("HU", "HUN"),
            ("IS", "ISL"),
            ("IT", "ITA"),
            ("LV", "LVA"),
            ("LT", "LTU"),
            ("LU", "LUX"),
            ("ME", "MNE"),
            ("NL", "NLD"),
            ("MK", "MKD"),
            ("NO", "NOR"),
            ("PL", "POL"),
            ("PT", "PRT"),
            ("RO", "ROU"),
            ("SK", "SVK"),
            ("SI", "SVN"),
            ("ES", "ESP"),
            ("SE", "SWE"),
            ("TR", "TUR"),
            ("GB", "GBR"),
            ("US", "USA"),
            ("AU", "AUS"),
            ("NZ", "NZL"),
        ];
        assert_eq!(pairs.len(), table.all().len(), "every nation of the data");
        for (alpha2, alpha3) in pairs {
            let id = table.find(alpha3).unwrap_or_else(|| panic!("{alpha3}"));
            assert_eq!(table.find(alpha2), Some(id), "{alpha2}");
            assert_eq!(table.find(&alpha2.to_lowercase()), Some(id), "{alpha2} in lower case");
            assert_eq!(table.get(id).alpha2, alpha2);
        }
        for member in NATO_MEMBERS {
            assert!(pairs.iter().any(|(_, a3)| *a3 == member), "{member} has no alpha-2 test");
        }
        assert_eq!(table.find("UK"), None, "UK is not an ISO 3166-1 code");
        assert_eq!(table.find("U"), None);
    }

    #[test]
    fn every_nation_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/nations");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().map(|s| s.trim_end_matches(".json").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        on_disk.sort();
        let embedded: Vec<String> = NATION_FILES.iter().map(|(c, _)| c.to_string()).collect();
        assert_eq!(on_disk, embedded);
    }
}
