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

/// Derives a slug from a title: ASCII letters and digits kept (lowercased), every other run
/// of characters becomes one `-`, trimmed, cut to 255 chars. Returns `None` when the title has
/// no ASCII letter or digit at all (the caller then picks a fallback).
pub fn slugify(title: &str) -> Option<String> {
    let mut out = String::with_capacity(title.len());
    let mut dash = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= MAX_SLUG_CHARS {
            break;
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
        assert_eq!(slugify("Привет"), None);
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
