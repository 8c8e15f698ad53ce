//! The three-way merge behind "merge" in a version conflict (issue 20): the text both edits
//! started from (base), the one saved meanwhile (theirs) and the one on screen (mine).
//!
//! Bodies merge line by line (diff3): a change only one side made is taken; the same change
//! on both sides is taken once; changes of both sides that overlap or touch are a conflict,
//! written into the text between markers for the user to settle:
//!
//! ```text
//! <<<<<<< mine
//! my lines
//! =======
//! their lines
//! >>>>>>> theirs
//! ```
//!
//! One-line fields (title, slug, excerpt, format) are taken from the side that changed them;
//! changed differently on both sides, they keep mine and are reported as conflicting, so
//! nothing of either side is lost. Pure and deterministic; bodies with more than
//! [`super::diff::MAX_DIFF_LINES`] lines on a side merge as one region.

use super::BodyFormat;
use super::diff::MAX_DIFF_LINES;
use similar::{Algorithm, DiffOp, capture_diff_slices};

pub const MARK_MINE: &str = "<<<<<<< mine";
pub const MARK_SPLIT: &str = "=======";
pub const MARK_THEIRS: &str = ">>>>>>> theirs";

/// The result of merging one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedText {
    pub text: String,
    /// How many conflicting regions are marked in `text`.
    pub conflicts: usize,
}

/// One change of a side: base lines `start..end` replaced by the side's lines `with`.
#[derive(Debug, Clone)]
struct Change {
    start: usize,
    end: usize,
    with: std::ops::Range<usize>,
}

fn changes(base: &[&str], side: &[&str]) -> Vec<Change> {
    if base.len() > MAX_DIFF_LINES || side.len() > MAX_DIFF_LINES {
        return if base == side {
            Vec::new()
        } else {
            vec![Change {
                start: 0,
                end: base.len(),
                with: 0..side.len(),
            }]
        };
    }
    let mut out: Vec<Change> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, base, side) {
        if let DiffOp::Equal { .. } = op {
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        match out.last_mut() {
            // Adjacent edits (a delete then an insert) are one change.
            Some(last) if last.end == o.start && last.with.end == n.start => {
                last.end = o.end;
                last.with.end = n.end;
            }
            _ => out.push(Change {
                start: o.start,
                end: o.end,
                with: n,
            }),
        }
    }
    out
}

/// Lines with their endings, so the merged text keeps them.
fn split(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The side's lines for base `start..end`, given its changes that fall inside.
fn side_region<'a>(
    base: &[&'a str],
    side: &[&'a str],
    changes: &[&Change],
    start: usize,
    end: usize,
) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = start;
    for c in changes {
        out.extend_from_slice(&base[at..c.start]);
        out.extend_from_slice(&side[c.with.clone()]);
        at = c.end;
    }
    out.extend_from_slice(&base[at..end]);
    out
}

fn push_lines(out: &mut String, lines: &[&str]) {
    for l in lines {
        out.push_str(l);
    }
}

fn push_mark(out: &mut String, mark: &str) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(mark);
    out.push('\n');
}

/// Merges `mine` and `theirs`, both edited from `base`, line by line.
pub fn merge_text(base: &str, theirs: &str, mine: &str) -> MergedText {
    if mine == theirs || theirs == base {
        return MergedText {
            text: mine.to_string(),
            conflicts: 0,
        };
    }
    if mine == base {
        return MergedText {
            text: theirs.to_string(),
            conflicts: 0,
        };
    }
    let (b, t, m) = (split(base), split(theirs), split(mine));
    let (ct, cm) = (changes(&b, &t), changes(&b, &m));
    let (mut it, mut im) = (0, 0);
    let mut out = String::new();
    let mut conflicts = 0;
    let mut at = 0; // base lines before `at` are written
    loop {
        // The next change of either side starts a region; it grows while a change of either
        // side overlaps or touches it.
        let next = match (ct.get(it), cm.get(im)) {
            (None, None) => break,
            (Some(x), None) => x.start,
            (None, Some(y)) => y.start,
            (Some(x), Some(y)) => x.start.min(y.start),
        };
        let (start, mut end) = (next, next);
        let (t0, m0) = (it, im);
        loop {
            let mut grew = false;
            if let Some(x) = ct.get(it)
                && x.start <= end
                && (x.start >= start)
            {
                end = end.max(x.end);
                it += 1;
                grew = true;
            }
            if let Some(y) = cm.get(im)
                && y.start <= end
                && (y.start >= start)
            {
                end = end.max(y.end);
                im += 1;
                grew = true;
            }
            if !grew {
                break;
            }
        }
        push_lines(&mut out, &b[at..start]);
        let theirs_in: Vec<&Change> = ct[t0..it].iter().collect();
        let mine_in: Vec<&Change> = cm[m0..im].iter().collect();
        let mine_lines = side_region(&b, &m, &mine_in, start, end);
        let theirs_lines = side_region(&b, &t, &theirs_in, start, end);
        if theirs_in.is_empty() || mine_lines == theirs_lines {
            push_lines(&mut out, &mine_lines);
        } else if mine_in.is_empty() {
            push_lines(&mut out, &theirs_lines);
        } else {
            conflicts += 1;
            push_mark(&mut out, MARK_MINE);
            push_lines(&mut out, &mine_lines);
            push_mark(&mut out, MARK_SPLIT);
            push_lines(&mut out, &theirs_lines);
            push_mark(&mut out, MARK_THEIRS);
        }
        at = end;
    }
    push_lines(&mut out, &b[at..]);
    MergedText {
        text: out,
        conflicts,
    }
}

/// How many conflict regions are still marked in `text` (a `<<<<<<< mine` line each).
pub fn unsettled(text: &str) -> usize {
    text.lines().filter(|l| *l == MARK_MINE).count()
}

/// One translation's editable text: what the editors save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslationText {
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub body: String,
    pub format: BodyFormat,
}

/// A merged translation: the text to put in the editor, and which one-line fields both sides
/// changed differently (mine is kept in them; theirs is shown beside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedTranslation {
    pub value: TranslationText,
    pub conflicting_fields: Vec<&'static str>,
    pub body_conflicts: usize,
}

impl MergedTranslation {
    pub fn is_clean(&self) -> bool {
        self.conflicting_fields.is_empty() && self.body_conflicts == 0
    }
}

fn pick<T: PartialEq + Clone>(
    name: &'static str,
    base: &T,
    theirs: &T,
    mine: &T,
    conflicts: &mut Vec<&'static str>,
) -> T {
    if mine == base {
        theirs.clone()
    } else if theirs != base && theirs != mine {
        conflicts.push(name);
        mine.clone()
    } else {
        mine.clone()
    }
}

/// Merges one translation field by field (see the module docs).
pub fn merge_translation(
    base: &TranslationText,
    theirs: &TranslationText,
    mine: &TranslationText,
) -> MergedTranslation {
    let mut c = Vec::new();
    let title = pick("title", &base.title, &theirs.title, &mine.title, &mut c);
    let slug = pick("slug", &base.slug, &theirs.slug, &mine.slug, &mut c);
    let excerpt = pick(
        "excerpt",
        &base.excerpt,
        &theirs.excerpt,
        &mine.excerpt,
        &mut c,
    );
    let format = pick("format", &base.format, &theirs.format, &mine.format, &mut c);
    let body = merge_text(&base.body, &theirs.body, &mine.body);
    MergedTranslation {
        value: TranslationText {
            title,
            slug,
            excerpt,
            body: body.text,
            format,
        },
        conflicting_fields: c,
        body_conflicts: body.conflicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_cases() {
        assert_eq!(merge_text("a\n", "a\n", "b\n").text, "b\n");
        assert_eq!(merge_text("a\n", "b\n", "a\n").text, "b\n");
        assert_eq!(merge_text("a\n", "b\n", "b\n").text, "b\n");
    }

    #[test]
    fn separate_edits_merge_and_overlaps_are_marked() {
        let base = "1\n2\n3\n4\n5\n";
        let m = merge_text(base, "1\n2\n3\n4\nFIVE\n", "ONE\n2\n3\n4\n5\n");
        assert_eq!((m.text.as_str(), m.conflicts), ("ONE\n2\n3\n4\nFIVE\n", 0));
        let m = merge_text(base, "1\nzwei\n3\n4\n5\n", "1\ntwo\n3\n4\n5\n");
        assert_eq!(m.conflicts, 1);
        assert_eq!(
            m.text,
            "1\n<<<<<<< mine\ntwo\n=======\nzwei\n>>>>>>> theirs\n3\n4\n5\n"
        );
        assert_eq!(unsettled(&m.text), 1);
        // No final newline: the markers still sit on lines of their own.
        let m = merge_text("a", "b", "c");
        assert_eq!(m.text, "<<<<<<< mine\nc\n=======\nb\n>>>>>>> theirs\n");
        // Both sides inserting at the end.
        let m = merge_text("a\n", "a\nt\n", "a\nm\n");
        assert_eq!(m.conflicts, 1);
    }
}
