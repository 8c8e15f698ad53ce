use crate::DomainError;

pub const MAX_TITLE_CHARS: usize = 255;
pub const MAX_SLUG_CHARS: usize = 255;
pub const MAX_EXCERPT_CHARS: usize = 1000;
pub const MAX_BODY_CHARS: usize = 1_000_000;
/// The most bytes a body within [`MAX_BODY_CHARS`] can take in UTF-8 (4 bytes a character at
/// most): what a reader of a body file or stdin needs to read before the limit can be judged.
pub const MAX_BODY_BYTES: usize = MAX_BODY_CHARS * 4;

fn too_long(field: &'static str, n: usize, max: usize) -> DomainError {
    DomainError::validation(field, format!("is {n} characters long; the limit is {max}"))
}

/// 1–255 characters, not blank. Control characters are allowed in storage but are always
/// escaped before they reach a terminal (see [`crate::text::printable`]).
pub fn validate_title(title: &str) -> Result<(), DomainError> {
    if title.trim().is_empty() {
        return Err(DomainError::validation("title", "must not be empty"));
    }
    let n = title.chars().count();
    if n > MAX_TITLE_CHARS {
        return Err(too_long("title", n, MAX_TITLE_CHARS));
    }
    Ok(())
}

pub fn validate_excerpt(excerpt: &str) -> Result<(), DomainError> {
    let n = excerpt.chars().count();
    if n > MAX_EXCERPT_CHARS {
        return Err(too_long("excerpt", n, MAX_EXCERPT_CHARS));
    }
    Ok(())
}

pub fn validate_body(body: &str) -> Result<(), DomainError> {
    // Cheap bound first: a string of at most MAX bytes has at most MAX chars.
    if body.len() > MAX_BODY_CHARS {
        let n = body.chars().count();
        if n > MAX_BODY_CHARS {
            return Err(too_long("body", n, MAX_BODY_CHARS));
        }
    }
    Ok(())
}
