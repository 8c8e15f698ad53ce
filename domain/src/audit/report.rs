//! Audit reports: scoring, per-tenant and batch reports, and their renderings as pure text
//! (JSON, Markdown, self-contained HTML with every user-provided string escaped).

use super::AuditInput;
use super::checks::{CHECKS, run_checks};
use super::finding::{Finding, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// The score passes at this value or above.
pub const PASS_SCORE: u32 = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub warning: u32,
    pub low: u32,
    pub info: u32,
}

impl SeverityCounts {
    pub fn of(findings: &[Finding]) -> Self {
        let mut c = SeverityCounts::default();
        for f in findings {
            *c.get_mut(f.severity) += 1;
        }
        c
    }

    fn get_mut(&mut self, s: Severity) -> &mut u32 {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Warning => &mut self.warning,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }

    pub fn get(&self, s: Severity) -> u32 {
        let mut c = *self;
        *c.get_mut(s)
    }
}

/// 100 minus each finding's penalty (critical 25, high 15, medium 8, warning 5, low 3),
/// never below 0.
pub fn score(findings: &[Finding]) -> u32 {
    100u32.saturating_sub(findings.iter().map(|f| f.severity.penalty()).sum())
}

/// One audit report (for one tenant, or the deployment as a whole).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The tenant the report covers (deployment-wide findings are in every report).
    pub tenant: Option<String>,
    pub generated_at: DateTime<Utc>,
    /// [`AuditInput::fingerprint`] of the snapshot audited.
    pub fingerprint: String,
    pub database: String,
    pub checks_run: usize,
    pub score: u32,
    pub passed: bool,
    pub counts: SeverityCounts,
    pub findings: Vec<Finding>,
}

impl AuditReport {
    /// Audits `input`. With a tenant, tenant-scoped findings of other tenants are left out.
    pub fn run(input: &AuditInput, tenant: Option<&str>, now: DateTime<Utc>) -> AuditReport {
        let findings: Vec<Finding> = run_checks(input)
            .into_iter()
            .filter(|f| match (tenant, &f.tenant) {
                (Some(t), Some(ft)) => t == ft,
                _ => true,
            })
            .collect();
        let score = score(&findings);
        AuditReport {
            tenant: tenant.map(str::to_string),
            generated_at: now,
            fingerprint: input.fingerprint(),
            database: input.database.url.clone(),
            checks_run: CHECKS.len(),
            score,
            passed: score >= PASS_SCORE,
            counts: SeverityCounts::of(&findings),
            findings,
        }
    }

    fn scope(&self) -> String {
        match &self.tenant {
            Some(t) => format!("tenant {t}"),
            None => "deployment".into(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Security audit: {}\n", md(&self.scope()));
        self.markdown_body(&mut s);
        s
    }

    fn markdown_body(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "- Generated: {}\n- Database: `{}`\n- Checks run: {}\n- Score: **{}/100** ({})\n- Fingerprint: `{}`\n",
            self.generated_at.to_rfc3339(),
            md_code(&self.database),
            self.checks_run,
            self.score,
            if self.passed { "passed" } else { "failed" },
            self.fingerprint
        );
        let _ = writeln!(s, "| Severity | Count |\n|---|---|");
        for sev in Severity::DESCENDING {
            let _ = writeln!(s, "| {sev} | {} |", self.counts.get(sev));
        }
        s.push('\n');
        if self.findings.is_empty() {
            s.push_str("No findings.\n");
        }
        for f in &self.findings {
            let _ = writeln!(s, "## {} {} ({})\n", f.id, md(&f.title), f.severity);
            let _ = writeln!(
                s,
                "- Category: {}\n- CWE: {}\n- CVSS: {}\n- Tenant: {}\n",
                f.category.label(),
                f.cwe.as_deref().unwrap_or("-"),
                f.cvss.map_or("-".into(), |c| format!("{c:.1}")),
                f.tenant.as_deref().map_or("-".into(), md)
            );
            let _ = writeln!(s, "{}\n\n**Evidence**\n", md(&f.description));
            for e in &f.evidence {
                let _ = writeln!(s, "- {}", md(e));
            }
            let _ = writeln!(
                s,
                "\n**Remediation** (effort: {}): {}\n",
                f.remediation.effort.label(),
                md(&f.remediation.steps)
            );
            let controls: Vec<String> = f
                .compliance
                .iter()
                .map(|c| format!("{} {}", c.framework.label(), c.control))
                .collect();
            let _ = writeln!(s, "**Compliance**: {}\n", controls.join("; "));
        }
    }

    pub fn to_html(&self) -> String {
        let mut s = String::new();
        html_head(&mut s, &format!("Security audit: {}", self.scope()));
        self.html_section(&mut s);
        s.push_str("</body>\n</html>\n");
        s
    }

    fn html_section(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "<section class=\"report\">\n<h1>Security audit: {}</h1>",
            esc(&self.scope())
        );
        let _ = writeln!(
            s,
            "<dl>\n<dt>Generated</dt><dd>{}</dd>\n<dt>Database</dt><dd><code>{}</code></dd>\n<dt>Checks run</dt><dd>{}</dd>\n<dt>Score</dt><dd class=\"score {}\">{}/100 ({})</dd>\n<dt>Fingerprint</dt><dd><code>{}</code></dd>\n</dl>",
            esc(&self.generated_at.to_rfc3339()),
            esc(&self.database),
            self.checks_run,
            if self.passed { "passed" } else { "failed" },
            self.score,
            if self.passed { "passed" } else { "failed" },
            esc(&self.fingerprint)
        );
        s.push_str("<table class=\"counts\">\n<thead><tr><th>Severity</th><th>Count</th></tr></thead>\n<tbody>\n");
        for sev in Severity::DESCENDING {
            let _ = writeln!(
                s,
                "<tr class=\"{sev}\"><td>{sev}</td><td>{}</td></tr>",
                self.counts.get(sev)
            );
        }
        s.push_str("</tbody>\n</table>\n");
        if self.findings.is_empty() {
            s.push_str("<p>No findings.</p>\n");
        }
        for f in &self.findings {
            let _ = writeln!(
                s,
                "<article class=\"finding {}\" id=\"{}\">\n<h2>{} {} <span class=\"severity\">{}</span></h2>",
                f.severity,
                esc(&format!(
                    "{}{}",
                    f.id,
                    f.tenant
                        .as_deref()
                        .map_or(String::new(), |t| format!("-{t}"))
                )),
                esc(&f.id),
                esc(&f.title),
                f.severity
            );
            let _ = writeln!(
                s,
                "<p>{}</p>\n<dl>\n<dt>Category</dt><dd>{}</dd>\n<dt>CWE</dt><dd>{}</dd>\n<dt>CVSS</dt><dd>{}</dd>\n<dt>Tenant</dt><dd>{}</dd>\n</dl>",
                esc(&f.description),
                f.category.label(),
                esc(f.cwe.as_deref().unwrap_or("-")),
                f.cvss.map_or("-".into(), |c| format!("{c:.1}")),
                esc(f.tenant.as_deref().unwrap_or("-"))
            );
            s.push_str("<h3>Evidence</h3>\n<ul class=\"evidence\">\n");
            for e in &f.evidence {
                let _ = writeln!(s, "<li>{}</li>", esc(e));
            }
            let _ = writeln!(
                s,
                "</ul>\n<h3>Remediation</h3>\n<p class=\"remediation\">{} <em>(effort: {})</em></p>",
                esc(&f.remediation.steps),
                f.remediation.effort.label()
            );
            s.push_str("<h3>Compliance</h3>\n<ul class=\"compliance\">\n");
            for c in &f.compliance {
                let _ = writeln!(s, "<li>{} {}</li>", c.framework.label(), esc(&c.control));
            }
            s.push_str("</ul>\n</article>\n");
        }
        s.push_str("</section>\n");
    }
}

/// One line of a batch summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub tenant: String,
    pub score: u32,
    pub passed: bool,
    pub counts: SeverityCounts,
}

/// An audit of several tenants: one report per tenant and a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    pub generated_at: DateTime<Utc>,
    pub fingerprint: String,
    pub summary: Vec<TenantSummary>,
    /// The lowest tenant score (100 with no tenants).
    pub lowest_score: u32,
    pub all_passed: bool,
    pub reports: Vec<AuditReport>,
}

impl BatchReport {
    /// One report per tenant of `input` (or per tenant named in `only`).
    pub fn run(input: &AuditInput, only: Option<&[String]>, now: DateTime<Utc>) -> BatchReport {
        let reports: Vec<AuditReport> = input
            .tenants
            .iter()
            .filter(|t| only.is_none_or(|o| o.contains(&t.slug)))
            .map(|t| AuditReport::run(input, Some(&t.slug), now))
            .collect();
        let summary: Vec<TenantSummary> = reports
            .iter()
            .map(|r| TenantSummary {
                tenant: r.tenant.clone().unwrap_or_default(),
                score: r.score,
                passed: r.passed,
                counts: r.counts,
            })
            .collect();
        BatchReport {
            generated_at: now,
            fingerprint: input.fingerprint(),
            lowest_score: summary.iter().map(|s| s.score).min().unwrap_or(100),
            all_passed: summary.iter().all(|s| s.passed),
            summary,
            reports,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::from("# Security audit: summary\n\n");
        let _ = writeln!(
            s,
            "- Generated: {}\n- Tenants: {}\n- Lowest score: {}\n- All passed: {}\n",
            self.generated_at.to_rfc3339(),
            self.summary.len(),
            self.lowest_score,
            if self.all_passed { "yes" } else { "no" }
        );
        s.push_str("| Tenant | Score | Result | Critical | High | Medium | Warning | Low |\n|---|---|---|---|---|---|---|---|\n");
        for t in &self.summary {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&t.tenant),
                t.score,
                if t.passed { "passed" } else { "failed" },
                t.counts.critical,
                t.counts.high,
                t.counts.medium,
                t.counts.warning,
                t.counts.low
            );
        }
        for r in &self.reports {
            let _ = writeln!(s, "\n# Security audit: {}\n", md(&r.scope()));
            r.markdown_body(&mut s);
        }
        s
    }

    pub fn to_html(&self) -> String {
        let mut s = String::new();
        html_head(&mut s, "Security audit: summary");
        s.push_str("<section class=\"summary\">\n<h1>Security audit: summary</h1>\n<table class=\"summary\">\n<thead><tr><th>Tenant</th><th>Score</th><th>Result</th><th>Critical</th><th>High</th><th>Medium</th><th>Warning</th><th>Low</th></tr></thead>\n<tbody>\n");
        for t in &self.summary {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.tenant),
                t.score,
                if t.passed { "passed" } else { "failed" },
                t.counts.critical,
                t.counts.high,
                t.counts.medium,
                t.counts.warning,
                t.counts.low
            );
        }
        s.push_str("</tbody>\n</table>\n</section>\n");
        for r in &self.reports {
            r.html_section(&mut s);
        }
        s.push_str("</body>\n</html>\n");
        s
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .6rem;text-align:left}\
.finding{border-left:.4rem solid #999;padding:.2rem 1rem;margin:1rem 0}\
.critical{border-color:#7b0000}.high{border-color:#c0392b}.medium{border-color:#e67e22}\
.warning{border-color:#f1c40f}.low{border-color:#3498db}.info{border-color:#95a5a6}\
.score.passed{color:#1e7e34}.score.failed{color:#c0392b}dt{font-weight:bold}";

fn html_head(s: &mut String, title: &str) {
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(title)
    );
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown (inline): characters that start markup, and control characters.
fn md(s: &str) -> String {
    let p = crate::text::printable(s);
    let mut out = String::with_capacity(p.len());
    for c in p.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn md_code(s: &str) -> String {
    crate::text::printable(s).replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_and_markdown() {
        assert_eq!(
            esc("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(md("a|b<c>"), "a\\|b\\<c\\>");
        assert_eq!(md("\x1b[2J"), "\\\\x1b\\[2J");
    }
}
