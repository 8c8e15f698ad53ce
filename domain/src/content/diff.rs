//! Line diffs of a node's fields between two revisions (`rustok node diff`, the console's
//! side-by-side view), built on the `similar` crate's Myers diff.
//!
//! Bounded: a field with more than [`MAX_DIFF_LINES`] lines on either side is not diffed line
//! by line; it shows as one hunk replacing every old line by every new one (still a correct
//! diff, computed in linear time). Deterministic: no clock, no deadline.

use super::revision::{NodeAt, RevisionContent};
use crate::Locale;
use serde::{Deserialize, Serialize};
use similar::{Algorithm, ChangeTag, DiffOp, capture_diff_slices};

/// Fields with more lines than this on either side are shown as one replacing hunk.
pub const MAX_DIFF_LINES: usize = 10_000;

/// Unchanged lines shown around each change.
pub const CONTEXT_LINES: usize = 3;

/// What a diff line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineOp {
    Context,
    Removed,
    Added,
}

impl LineOp {
    /// The unified diff's first column.
    pub fn sign(self) -> char {
        match self {
            LineOp::Context => ' ',
            LineOp::Removed => '-',
            LineOp::Added => '+',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    pub op: LineOp,
    /// The line without its line ending.
    pub text: String,
    /// The text's last line, with no line ending after it: a unified diff follows it with
    /// `\ No newline at end of file`. Without this a text and the same text with a final
    /// newline added or removed showed no difference. In JSON only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_newline: bool,
}

impl DiffLine {
    /// The line as a view shows it on one row: its text, and after it a short mark when it
    /// has no line ending (`b  \ no newline at end`).
    pub fn shown(&self) -> String {
        if self.no_newline {
            format!("{}  {NO_NEWLINE_SHORT}", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// The one-row views' mark of a line with no line ending.
pub const NO_NEWLINE_SHORT: &str = "\\ no newline at end";

/// What a unified diff writes after a line with no line ending.
pub const NO_NEWLINE_MARKER: &str = "\\ No newline at end of file";

/// One hunk of a unified diff: 1-based starts, as `@@ -old_start,old_lines +new_start,new_lines @@`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hunk {
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// Does the old side end without a newline where the new one has it, or the other way
    /// round? The one-row views (the console's side-by-side diff and conflict view) mark
    /// a line with no ending only then, where it is the change (or part of it); the unified
    /// text marks every such line, as a patch must.
    pub fn newline_differs(&self) -> bool {
        let unended = |side: LineOp| {
            self.lines
                .iter()
                .any(|l| l.no_newline && (l.op == side || l.op == LineOp::Context))
        };
        unended(LineOp::Removed) != unended(LineOp::Added)
    }

    pub fn header(&self) -> String {
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_lines, self.new_start, self.new_lines
        )
    }
}

/// The changes of one field (of one locale; `status` has none) between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDiff {
    pub locale: Option<Locale>,
    pub field: String,
    pub hunks: Vec<Hunk>,
}

impl FieldDiff {
    /// `[en] body`, or `status`.
    pub fn label(&self) -> String {
        match &self.locale {
            Some(l) => format!("[{l}] {}", self.field),
            None => self.field.clone(),
        }
    }
}

/// The lines of `text` without their endings, each with whether it had one: only the last
/// line may lack it, and then differs from the same line with one.
fn lines(text: &str) -> Vec<(&str, bool)> {
    let mut v: Vec<(&str, bool)> = text.lines().map(|l| (l, true)).collect();
    if !text.ends_with('\n')
        && let Some(last) = v.last_mut()
    {
        last.1 = false;
    }
    v
}

fn line(op: LineOp, (text, ended): (&str, bool)) -> DiffLine {
    DiffLine {
        op,
        text: text.to_string(),
        no_newline: !ended,
    }
}

/// The hunks turning `old` into `new` (empty when equal), with [`CONTEXT_LINES`] of context.
pub fn diff_text(old: &str, new: &str) -> Vec<Hunk> {
    if old == new {
        return Vec::new();
    }
    let (a, b) = (lines(old), lines(new));
    if a.len() > MAX_DIFF_LINES || b.len() > MAX_DIFF_LINES {
        let mut out: Vec<DiffLine> = a.iter().map(|l| line(LineOp::Removed, *l)).collect();
        out.extend(b.iter().map(|l| line(LineOp::Added, *l)));
        return vec![Hunk {
            old_start: usize::from(!a.is_empty()),
            old_lines: a.len(),
            new_start: usize::from(!b.is_empty()),
            new_lines: b.len(),
            lines: out,
        }];
    }
    let ops = capture_diff_slices(Algorithm::Myers, &a, &b);
    let groups = similar::group_diff_ops(ops, CONTEXT_LINES);
    let mut hunks = Vec::with_capacity(groups.len());
    for group in groups {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let mut out = Vec::new();
        for op in &group {
            for (tag, old_i, new_i) in op_lines(op) {
                out.push(match tag {
                    ChangeTag::Equal => line(LineOp::Context, a[old_i]),
                    ChangeTag::Delete => line(LineOp::Removed, a[old_i]),
                    ChangeTag::Insert => line(LineOp::Added, b[new_i]),
                });
            }
        }
        let start = |r: &std::ops::Range<usize>| {
            if r.is_empty() { r.start } else { r.start + 1 }
        };
        hunks.push(Hunk {
            old_start: start(&old_range),
            old_lines: old_range.len(),
            new_start: start(&new_range),
            new_lines: new_range.len(),
            lines: out,
        });
    }
    hunks
}

/// The lines of one op: (tag, old index, new index), deletions before insertions.
fn op_lines(op: &DiffOp) -> Vec<(ChangeTag, usize, usize)> {
    let (old, new) = (op.old_range(), op.new_range());
    match op {
        DiffOp::Equal { .. } => old
            .clone()
            .zip(new.clone())
            .map(|(o, n)| (ChangeTag::Equal, o, n))
            .collect(),
        DiffOp::Delete { .. } => old.map(|o| (ChangeTag::Delete, o, 0)).collect(),
        DiffOp::Insert { .. } => new.map(|n| (ChangeTag::Insert, 0, n)).collect(),
        DiffOp::Replace { .. } => old
            .map(|o| (ChangeTag::Delete, o, 0))
            .chain(new.map(|n| (ChangeTag::Insert, 0, n)))
            .collect(),
    }
}

fn field_texts(c: Option<&RevisionContent>) -> [(&'static str, String); 5] {
    let get = |f: fn(&RevisionContent) -> String| c.map(f).unwrap_or_default();
    [
        ("title", get(|c| c.title.clone())),
        ("slug", get(|c| c.slug.clone())),
        ("excerpt", get(|c| c.excerpt.clone().unwrap_or_default())),
        ("body", get(|c| c.body.clone())),
        ("format", get(|c| c.format.as_str().to_string())),
    ]
}

/// Every field that differs between `from` and `to`: the status (when no locale is asked
/// for), then per locale (all, or only `locale`) title, slug, excerpt, body and format.
pub fn diff_nodes(from: &NodeAt, to: &NodeAt, locale: Option<&Locale>) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    if locale.is_none() && from.revision.status != to.revision.status {
        out.push(FieldDiff {
            locale: None,
            field: "status".into(),
            hunks: diff_text(from.revision.status.as_str(), to.revision.status.as_str()),
        });
    }
    let mut locales: Vec<&Locale> = from
        .translations
        .iter()
        .chain(&to.translations)
        .map(|t| &t.locale)
        .filter(|l| locale.is_none_or(|want| want == *l))
        .collect();
    locales.sort();
    locales.dedup();
    for l in locales {
        let (a, b) = (
            field_texts(from.translation(l)),
            field_texts(to.translation(l)),
        );
        for ((field, old), (_, new)) in a.into_iter().zip(b) {
            let hunks = diff_text(&old, &new);
            if !hunks.is_empty() {
                out.push(FieldDiff {
                    locale: Some(l.clone()),
                    field: field.into(),
                    hunks,
                });
            }
        }
    }
    out
}

/// Two revisions of a node and what changed between them (`rustok node diff --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDiff {
    pub node_id: crate::NodeId,
    pub from: super::Revision,
    pub to: super::Revision,
    pub fields: Vec<FieldDiff>,
}

impl NodeDiff {
    /// The diff of `from` → `to` (all locales, or only `locale`).
    pub fn between(from: &NodeAt, to: &NodeAt, locale: Option<&Locale>) -> NodeDiff {
        NodeDiff {
            node_id: to.node_id,
            from: from.revision.clone(),
            to: to.revision.clone(),
            fields: diff_nodes(from, to, locale),
        }
    }

    /// Refuses a diff limited to `locale` when neither revision has that locale (it would
    /// be an empty diff, read as "no differences"), naming the locales they have.
    pub fn check_locale(
        from: &NodeAt,
        to: &NodeAt,
        locale: &Locale,
    ) -> Result<(), crate::DomainError> {
        let mut have: Vec<&Locale> = from
            .translations
            .iter()
            .chain(&to.translations)
            .map(|t| &t.locale)
            .collect();
        if have.contains(&locale) {
            return Ok(());
        }
        have.sort_by_key(|l| l.to_string());
        have.dedup();
        let have: Vec<String> = have.iter().map(|l| l.to_string()).collect();
        Err(crate::DomainError::validation(
            "locale",
            format!(
                "neither version {} nor version {} of node {} has locale {locale}; they have {}",
                from.revision.version,
                to.revision.version,
                to.node_id,
                have.join(", ")
            ),
        ))
    }

    /// The unified diff text.
    pub fn unified(&self) -> String {
        unified(&self.fields, self.from.version, self.to.version)
    }
}

/// The unified diff text of `diffs` between versions `from` and `to`.
pub fn unified(diffs: &[FieldDiff], from: i64, to: i64) -> String {
    let mut s = String::new();
    for d in diffs {
        let label = d.label();
        s.push_str(&format!("--- v{from} {label}\n+++ v{to} {label}\n"));
        for h in &d.hunks {
            s.push_str(&h.header());
            s.push('\n');
            for l in &h.lines {
                s.push(l.op.sign());
                s.push_str(&l.text);
                s.push('\n');
                if l.no_newline {
                    s.push_str(NO_NEWLINE_MARKER);
                    s.push('\n');
                }
            }
        }
    }
    s
}

/// One row of a side-by-side view: the old line (number, text) on the left, the new one on
/// the right; a changed pair sits on one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideRow {
    pub left: Option<(usize, String)>,
    pub right: Option<(usize, String)>,
    pub changed: bool,
}

/// A hunk as side-by-side rows: context on both sides, each run of removed lines paired
/// row by row with the added lines that follow it; a line with no ending is marked when that
/// differs between the sides ([`Hunk::newline_differs`]).
pub fn side_by_side(h: &Hunk) -> Vec<SideRow> {
    let mut rows = Vec::new();
    let mark = h.newline_differs();
    let shown = |l: &DiffLine| if mark { l.shown() } else { l.text.clone() };
    let (mut old_n, mut new_n) = (h.old_start.max(1), h.new_start.max(1));
    let mut i = 0;
    while i < h.lines.len() {
        if h.lines[i].op == LineOp::Context {
            rows.push(SideRow {
                left: Some((old_n, shown(&h.lines[i]))),
                right: Some((new_n, shown(&h.lines[i]))),
                changed: false,
            });
            old_n += 1;
            new_n += 1;
            i += 1;
            continue;
        }
        let mut removed = Vec::new();
        while i < h.lines.len() && h.lines[i].op == LineOp::Removed {
            removed.push(shown(&h.lines[i]));
            i += 1;
        }
        let mut added = Vec::new();
        while i < h.lines.len() && h.lines[i].op == LineOp::Added {
            added.push(shown(&h.lines[i]));
            i += 1;
        }
        for k in 0..removed.len().max(added.len()) {
            let left = removed.get(k).map(|t| {
                old_n += 1;
                (old_n - 1, t.clone())
            });
            let right = added.get(k).map(|t| {
                new_n += 1;
                (new_n - 1, t.clone())
            });
            rows.push(SideRow {
                left,
                right,
                changed: true,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_is_one_hunk_with_context() {
        let h = diff_text("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nE\nf\ng\nh\n");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].header(), "@@ -2,7 +2,7 @@");
        let signs: String = h[0].lines.iter().map(|l| l.op.sign()).collect();
        assert_eq!(signs, "   -+   ");
        let rows = side_by_side(&h[0]);
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[3].left, Some((5, "e".into())));
        assert_eq!(rows[3].right, Some((5, "E".into())));
        assert!(rows[3].changed);
        assert!(diff_text("same", "same").is_empty());
        let h = diff_text("", "new");
        assert_eq!(h[0].header(), "@@ -0,0 +1,1 @@");
    }

    #[test]
    fn a_final_newline_added_or_removed_is_a_change_marked_as_unified_diffs_do() {
        let h = diff_text("a\nb", "a\nb\n");
        assert_eq!(h.len(), 1, "{h:?}");
        let ops: Vec<(char, &str, bool)> = h[0]
            .lines
            .iter()
            .map(|l| (l.op.sign(), l.text.as_str(), l.no_newline))
            .collect();
        assert_eq!(
            ops,
            [(' ', "a", false), ('-', "b", true), ('+', "b", false)]
        );
        let text = unified(
            &[FieldDiff {
                locale: None,
                field: "body".into(),
                hunks: h,
            }],
            1,
            2,
        );
        assert_eq!(
            text,
            "--- v1 body\n+++ v2 body\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        );
        // Removed: the new side is the one marked.
        let h = diff_text("x\n", "x");
        assert!(h[0].lines[1].no_newline && h[0].lines[1].op == LineOp::Added);
        // Unchanged text without a final newline: no hunk; changed elsewhere: context marked.
        assert!(diff_text("x", "x").is_empty());
        let h = diff_text("a\nb", "A\nb");
        assert!(h[0].lines.last().is_some_and(|l| l.no_newline));
        // Side by side (the history's diff): the mark on the row.
        let rows = side_by_side(&diff_text("a\nb", "a\nb\n")[0]);
        assert_eq!(rows[1].left, Some((2, "b  \\ no newline at end".into())));
        assert_eq!(rows[1].right, Some((2, "b".into())));
        // Both sides without a final newline: not the change, no mark on the rows.
        let h = diff_text("a\nb", "a\nB");
        assert!(!h[0].newline_differs());
        assert!(side_by_side(&h[0]).iter().all(|r| {
            [&r.left, &r.right]
                .iter()
                .all(|s| s.as_ref().is_none_or(|(_, t)| !t.contains("newline")))
        }));
        // In JSON only where true.
        let json = serde_json::to_value(&h[0].lines[0]).unwrap();
        assert!(json.get("no_newline").is_none(), "{json}");
    }

    #[test]
    fn huge_fields_are_one_replacing_hunk() {
        let old = "x\n".repeat(MAX_DIFF_LINES + 1);
        let h = diff_text(&old, "y\n");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].lines.len(), MAX_DIFF_LINES + 2);
    }
}
