use super::validate::MAX_SLUG_CHARS;
use crate::DomainError;

/// A content slug: 1–255 chars of `[a-z0-9-]`, no leading, trailing or double `-`.
pub fn validate_slug(slug: &str) -> Result<(), DomainError> {
    let err = |m: &str| {
        Err(DomainError::validation(
            "slug",
            format!(
                "'{}' {m}",
                crate::text::excerpt(slug, crate::text::EXCERPT_CHARS)
            ),
        ))
    };
    if slug.is_empty() {
        return Err(DomainError::validation("slug", "must not be empty"));
    }
    if slug.len() > MAX_SLUG_CHARS {
        return Err(DomainError::validation(
            "slug",
            format!(
                "is {} characters long; the limit is {MAX_SLUG_CHARS}",
                slug.chars().count()
            ),
        ));
    }
    if !slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return err("may only contain a-z, 0-9 and '-'");
    }
    if slug.starts_with('-') || slug.ends_with('-') {
        return err("must not start or end with '-'");
    }
    if slug.contains("--") {
        return err("must not contain '--'");
    }
    Ok(())
}

/// Derives a slug from a title, so that titles that look alike get the same slug:
///
/// 1. the title is put in Unicode normalization form NFKC (a decomposed `e` + U+0301 and the
///    precomposed `é` become one character, full-width `Ａ` becomes `A`, the ligature `ﬁ`
///    becomes `fi`);
/// 2. ASCII letters and digits are kept, lowercased; any other letter or digit is
///    transliterated to ASCII (`é` → `e`, `Ω` → `O`, `Привет` → `Privet`, `北京` → `Bei Jing`,
///    `ß` → `ss`) and what that gives is kept the same way; combining marks left over are
///    dropped without splitting the word;
/// 3. every other run of characters (spaces, punctuation, symbols, emoji, letters with no
///    transliteration) becomes one `-`; the result is trimmed and cut to 255 characters.
///
/// The result always passes [`validate_slug`] (`[a-z0-9-]`). Returns `None` when nothing is
/// left (a title of emoji or symbols only): the caller then picks a fallback.
pub fn slugify(title: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    /// Appends an ASCII character: a letter or digit lowercased (after one `-` when a
    /// separator came before it), anything else only marks a separator.
    fn push(c: char, out: &mut String, dash: &mut bool) {
        if c.is_ascii_alphanumeric() {
            if *dash && !out.is_empty() {
                out.push('-');
            }
            *dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            *dash = true;
        }
    }
    let mut out = String::with_capacity(title.len().min(MAX_SLUG_CHARS));
    let mut dash = false;
    for c in title.nfkc() {
        if out.len() >= MAX_SLUG_CHARS {
            break;
        }
        if c.is_ascii() {
            push(c, &mut out, &mut dash);
        } else if unicode_normalization::char::is_combining_mark(c) {
            // A mark with no precomposed form (`q` + U+0303): part of the letter before it.
        } else if c.is_alphanumeric() {
            match deunicode::deunicode_char(c) {
                Some(ascii) => ascii.chars().for_each(|a| push(a, &mut out, &mut dash)),
                None => dash = true,
            }
        } else {
            dash = true;
        }
    }
    out.truncate(MAX_SLUG_CHARS);
    let trimmed = out.trim_end_matches('-').to_string();
    (!trimmed.is_empty()).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Hello, World!").as_deref(), Some("hello-world"));
        assert_eq!(
            slugify("  Rust   2024 -- edition ").as_deref(),
            Some("rust-2024-edition")
        );
        assert_eq!(slugify("Привет").as_deref(), Some("privet"));
        assert_eq!(slugify("北京").as_deref(), Some("bei-jing"));
        assert_eq!(slugify("Ελληνικά 2").as_deref(), Some("ellenika-2"));
        assert_eq!(slugify("🦀 ✨ ★"), None);
        assert!(slugify(&"ab ".repeat(200)).unwrap().len() <= 255);
        assert!(validate_slug("hello-world").is_ok());
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "ä"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
        for t in ["x", "Hello, World!", &"word ".repeat(100)] {
            assert!(validate_slug(&slugify(t).unwrap()).is_ok());
        }
    }
}
