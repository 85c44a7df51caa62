//! What a key may do.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A permission of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Start jobs and streams, write configuration templates.
    Generate,
    /// Read jobs, results, templates, presets and visualisations.
    Read,
    /// Every scope, and every owner's jobs and templates.
    Admin,
}

impl Scope {
    /// Every scope, in the order the CLI lists them.
    pub const ALL: [Scope; 3] = [Scope::Generate, Scope::Read, Scope::Admin];

    /// The name stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Generate => "generate",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`Scope`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope '{0}' (generate, read, admin)")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, UnknownScope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| UnknownScope(s.to_string()))
    }
}

/// The scopes of a key, in the order they were given; stored as
/// comma-separated text (`generate,read`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Scopes from a list.
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().collect())
    }

    /// Parses comma-separated names (spaces around names are ignored);
    /// every name must be a scope.
    pub fn parse(text: &str) -> Result<Self, UnknownScope> {
        text.split(',').map(|name| name.trim().parse()).collect::<Result<Vec<_>, _>>().map(Self)
    }

    /// The scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Whether the key has `scope`; `admin` implies every scope.
    pub fn allows(&self, scope: Scope) -> bool {
        self.0.contains(&Scope::Admin) || self.0.contains(&scope)
    }
}

impl fmt::Display for Scopes {
    /// The stored form: names joined by commas.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl From<String> for Scopes {
    /// The stored text; names that are not scopes grant nothing and are
    /// dropped (only [`Scopes::parse`]d input is ever written).
    fn from(text: String) -> Self {
        Self(text.split(',').filter_map(|name| name.trim().parse().ok()).collect())
    }
}

impl Serialize for Scopes {
    /// The stored form, as a string.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_strictly_and_read_leniently() {
        let scopes = Scopes::parse("admin, generate,read").expect("known names");
        assert_eq!(scopes.to_string(), "admin,generate,read");
        assert!(scopes.allows(Scope::Read));
        assert_eq!(Scopes::parse("read,root"), Err(UnknownScope("root".into())));
        assert_eq!(Scopes::parse(""), Err(UnknownScope(String::new())));
        let read = Scopes::from("read,legacy".to_string());
        assert!(read.allows(Scope::Read) && !read.allows(Scope::Generate));
        assert!(Scopes::new([Scope::Admin]).allows(Scope::Generate), "admin implies every scope");
    }
}
