//! Locales such as `en`, `en-US`, `es-419`, `zh-Hant-TW`.

use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A validated BCP 47-style locale tag: a 2–3 letter language, an optional 4-letter script
/// and an optional region of 2 letters or 3 digits. Stored in canonical case (`en-US`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(String);

impl Locale {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Locale {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            DomainError::validation(
                "locale",
                format!(
                    "'{}' is not a locale (expected e.g. en, en-US, es-419)",
                    crate::text::excerpt(s, crate::text::EXCERPT_CHARS)
                ),
            )
        };
        let mut parts = s.split(['-', '_']);
        let lang = parts.next().ok_or_else(bad)?;
        if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad());
        }
        let mut out = lang.to_ascii_lowercase();
        let mut rest: Vec<&str> = parts.collect();
        if rest.len() > 2 {
            return Err(bad());
        }
        if let Some(script) = rest.first().copied()
            && script.len() == 4
            && script.bytes().all(|b| b.is_ascii_alphabetic())
        {
            out.push('-');
            out.push_str(&script[..1].to_ascii_uppercase());
            out.push_str(&script[1..].to_ascii_lowercase());
            rest.remove(0);
        }
        match rest.as_slice() {
            [] => {}
            [region] => {
                let ok = (region.len() == 2 && region.bytes().all(|b| b.is_ascii_alphabetic()))
                    || (region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit()));
                if !ok {
                    return Err(bad());
                }
                out.push('-');
                out.push_str(&region.to_ascii_uppercase());
            }
            _ => return Err(bad()),
        }
        Ok(Locale(out))
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Locale({})", self.0)
    }
}

impl Serialize for Locale {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_canonicalises() {
        for (input, want) in [
            ("en", "en"),
            ("en-US", "en-US"),
            ("en_us", "en-US"),
            ("es-419", "es-419"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("ru", "ru"),
        ] {
            assert_eq!(input.parse::<Locale>().unwrap().as_str(), want);
        }
        for bad in [
            "",
            "e",
            "english",
            "en-",
            "en-U",
            "en-1234",
            "e1",
            "en-US-x-y",
            "en\x1b",
        ] {
            assert!(bad.parse::<Locale>().is_err(), "{bad:?}");
        }
    }
}
