//! What an audit check reports: a finding with its category, severity, evidence,
//! remediation (with an effort estimate), CWE, CVSS and the compliance controls it bears on.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Authentication,
    Authorization,
    InputValidation,
    DataProtection,
    EventSystem,
    Infrastructure,
    TenantSecurity,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Authentication,
        Category::Authorization,
        Category::InputValidation,
        Category::DataProtection,
        Category::EventSystem,
        Category::Infrastructure,
        Category::TenantSecurity,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Category::Authentication => "Authentication",
            Category::Authorization => "Authorization",
            Category::InputValidation => "Input validation",
            Category::DataProtection => "Data protection",
            Category::EventSystem => "Event system",
            Category::Infrastructure => "Infrastructure",
            Category::TenantSecurity => "Tenant security",
        }
    }
}

/// Severity, lowest first (so `Ord` sorts by importance ascending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Warning,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Most severe first.
    pub const DESCENDING: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Warning,
        Severity::Low,
        Severity::Info,
    ];

    /// Points taken off the score of 100 for one finding of this severity.
    pub fn penalty(&self) -> u32 {
        match self {
            Severity::Critical => 25,
            Severity::High => 15,
            Severity::Medium => 8,
            Severity::Warning => 5,
            Severity::Low => 3,
            Severity::Info => 0,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Warning => "warning",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compliance framework the seed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Framework {
    #[serde(rename = "OWASP Top 10")]
    Owasp,
    #[serde(rename = "CIS Controls")]
    Cis,
    #[serde(rename = "SOC 2")]
    Soc2,
    #[serde(rename = "ISO 27001")]
    Iso27001,
    #[serde(rename = "PCI DSS")]
    PciDss,
    #[serde(rename = "GDPR")]
    Gdpr,
}

impl Framework {
    pub fn label(&self) -> &'static str {
        match self {
            Framework::Owasp => "OWASP Top 10",
            Framework::Cis => "CIS Controls",
            Framework::Soc2 => "SOC 2",
            Framework::Iso27001 => "ISO 27001",
            Framework::PciDss => "PCI DSS",
            Framework::Gdpr => "GDPR",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    pub framework: Framework,
    pub control: String,
}

/// How long fixing a finding takes, roughly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effort {
    /// Minutes: a flag, a command.
    Minutes,
    /// Hours: a configuration change with a restart or a rollout to staff.
    Hours,
    /// Days: a migration or an investigation.
    Days,
}

impl Effort {
    pub fn label(&self) -> &'static str {
        match self {
            Effort::Minutes => "minutes",
            Effort::Hours => "hours",
            Effort::Days => "days",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    pub steps: String,
    pub effort: Effort,
}

/// One thing the audit found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The check's id, e.g. `AUTH-001`.
    pub id: String,
    pub title: String,
    pub category: Category,
    pub severity: Severity,
    pub description: String,
    /// Concrete facts from the data (handles, counts, modes), one per line.
    pub evidence: Vec<String>,
    pub remediation: Remediation,
    /// e.g. `CWE-308`.
    pub cwe: Option<String>,
    /// CVSS v3.1 base score where one fits.
    pub cvss: Option<f32>,
    pub compliance: Vec<Control>,
    /// The tenant the finding is about, for tenant-scoped checks.
    pub tenant: Option<String>,
}
