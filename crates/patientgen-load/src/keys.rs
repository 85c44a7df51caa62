//! API keys by role. The scripts create them with `patientgen keys create`
//! against the server's database and pass them as `ROLE=KEY` pairs (flag
//! `--key` or `PATIENTGEN_LOAD_KEYS`, comma-separated).

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// What a key is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    /// Jobs and streaming: high request limits, patients per request above the
    /// largest job the run asks for.
    Jobs,
    /// Reference data, presets and configurations: high request limits.
    Browse,
    /// A low per-minute limit, driven into 429 on purpose.
    Limited,
}

impl KeyRole {
    /// Every role.
    pub const ALL: [KeyRole; 3] = [KeyRole::Jobs, KeyRole::Browse, KeyRole::Limited];

    /// Name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Jobs => "jobs",
            KeyRole::Browse => "browse",
            KeyRole::Limited => "limited",
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        KeyRole::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown key role '{s}' (jobs, browse, limited)"))
    }
}

/// One `ROLE=KEY` pair.
#[derive(Clone, PartialEq, Eq)]
pub struct RoleKey {
    /// Role.
    pub role: KeyRole,
    /// The plaintext key.
    pub key: String,
}

impl fmt::Debug for RoleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a key.
        write!(f, "{}=<key>", self.role)
    }
}

impl FromStr for RoleKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (role, key) = s.split_once('=').ok_or_else(|| "expected ROLE=KEY".to_string())?;
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("the key of role '{role}' is empty"));
        }
        Ok(RoleKey { role: role.parse()?, key: key.to_string() })
    }
}

/// The keys of a run, by role.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Keys {
    jobs: Vec<String>,
    browse: Vec<String>,
    limited: Vec<String>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Keys {{ jobs: {}, browse: {}, limited: {} }}",
            self.jobs.len(),
            self.browse.len(),
            self.limited.len()
        )
    }
}

impl Keys {
    /// Groups pairs by role. A `jobs` key is required; `browse` falls back to
    /// the `jobs` keys; without a `limited` key the limited scenario is left out.
    pub fn from_pairs(pairs: &[RoleKey]) -> Result<Keys, String> {
        let mut keys = Keys::default();
        for p in pairs {
            let list = match p.role {
                KeyRole::Jobs => &mut keys.jobs,
                KeyRole::Browse => &mut keys.browse,
                KeyRole::Limited => &mut keys.limited,
            };
            if !list.contains(&p.key) {
                list.push(p.key.clone());
            }
        }
        if keys.jobs.is_empty() {
            return Err("no key of role 'jobs' given (--key jobs=KEY or PATIENTGEN_LOAD_KEYS)".into());
        }
        if keys.browse.is_empty() {
            keys.browse = keys.jobs.clone();
        }
        Ok(keys)
    }

    /// The keys of a role (may be empty only for `limited`).
    pub fn of(&self, role: KeyRole) -> &[String] {
        match role {
            KeyRole::Jobs => &self.jobs,
            KeyRole::Browse => &self.browse,
            KeyRole::Limited => &self.limited,
        }
    }

    /// The key user number `user` of a role takes (round robin).
    pub fn pick(&self, role: KeyRole, user: usize) -> Option<&str> {
        let list = self.of(role);
        if list.is_empty() { None } else { Some(list[user % list.len()].as_str()) }
    }

    /// How many keys each role has.
    pub fn counts(&self) -> Vec<(KeyRole, usize)> {
        KeyRole::ALL.iter().map(|r| (*r, self.of(*r).len())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_and_group_by_role() {
        let pairs: Vec<RoleKey> =
            ["jobs=a", "JOBS=b", "limited= c ", "jobs=a"].iter().map(|s| s.parse().expect("pair")).collect();
        let keys = Keys::from_pairs(&pairs).expect("keys");
        assert_eq!(keys.of(KeyRole::Jobs), ["a", "b"]);
        assert_eq!(keys.of(KeyRole::Browse), ["a", "b"], "browse falls back to the jobs keys");
        assert_eq!(keys.of(KeyRole::Limited), ["c"]);
        assert_eq!(keys.pick(KeyRole::Jobs, 3), Some("b"));
    }

    #[test]
    fn bad_pairs_are_refused_and_keys_never_printed() {
        assert!("jobs".parse::<RoleKey>().is_err());
        assert!("jobs=".parse::<RoleKey>().is_err());
        assert!("admin=x".parse::<RoleKey>().unwrap_err().contains("unknown key role"));
        let pair: RoleKey = "jobs=sk_live_secret".parse().expect("pair");
        assert!(!format!("{pair:?}").contains("secret"));
        let keys = Keys::from_pairs(&[pair]).expect("keys");
        assert!(!format!("{keys:?}").contains("secret"));
        assert!(Keys::from_pairs(&["limited=x".parse().expect("pair")]).unwrap_err().contains("jobs"));
    }
}
