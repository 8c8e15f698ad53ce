//! The Audit pane: the security audit of the session's tenant (score, counts by severity,
//! findings with a `/` filter, a severity filter and a detail), the audit log of staff
//! actions (paged from the store, newest first) and the staff list with a detail.
//!
//! The pane holds state only. What it needs from the runtime it returns as [`Intent`]s; the
//! app turns them into effects (so request ids and pending requests stay in one place).

mod draw;
use draw::{finding_lines, staff_lines};
mod pane;

use crate::action::Action;
use crate::msg::{AuditTrigger, Failure, ReportFormat};
use crate::theme::Theme;
use crate::widgets::node_list::group;
use crate::widgets::window::Window;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, Wrap};
use rustok_domain::audit::{AuditLogEntry, AuditOutcome, AuditReport, Finding, Severity};
use rustok_domain::rbac::{MATRIX, Role};
use rustok_domain::read::Page;
use rustok_domain::text::printable;
use rustok_domain::{Command, DomainError, Staff, TenantId};
use std::collections::HashMap;

/// Rows of the audit log asked for at a time.
pub const LOG_PAGE: u64 = 100;
/// Lines the header takes (with its border).
const HEADER: u16 = 5;

/// Which part of the pane is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Findings,
    Log,
    Staff,
}

/// What the pane needs the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    RunAudit,
    LoadLog {
        offset: u64,
        limit: u64,
        filter: String,
    },
    LoadStaff,
    Export {
        format: ReportFormat,
        path: String,
    },
    Info(String),
    /// A staff change to confirm, then dispatch (through the action queue and RBAC).
    Confirm {
        title: String,
        message: String,
        command: Box<Command>,
        /// What the status bar says while it runs and when it is done.
        label: String,
    },
}

/// Loaded, refused or failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Access {
    #[default]
    Unknown,
    Allowed,
    /// The store refused: the one-line reason (names the permission).
    Denied(String),
    Failed(String),
}

impl Access {
    fn of(f: &Failure) -> Access {
        match f {
            Failure::Domain(DomainError::PermissionDenied { reason }) => {
                Access::Denied(reason.clone())
            }
            other => Access::Failed(other.to_string()),
        }
    }
}

/// A list held in memory, shown through a filter: the selection and the first visible row
/// are positions in `order` (the matching items, best first).
#[derive(Debug, Clone, Default)]
pub struct Filtered {
    pub order: Vec<usize>,
    pub selected: usize,
    pub top: usize,
    pub query: String,
    pub editing: bool,
    pub detail: bool,
    /// The first line of the open detail that is shown (PgUp/PgDn, Home/End scroll it).
    pub scroll: u16,
}

impl Filtered {
    fn move_by(&mut self, delta: i64, height: u16) {
        if self.order.is_empty() {
            return;
        }
        let last = self.order.len() as i64 - 1;
        let next = (self.selected as i64).saturating_add(delta).clamp(0, last) as usize;
        self.select(next, height);
    }

    fn select(&mut self, i: usize, height: u16) {
        if self.order.is_empty() {
            self.selected = 0;
            self.top = 0;
            return;
        }
        self.selected = i.min(self.order.len() - 1);
        let h = usize::from(height.max(1));
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + h {
            self.top = self.selected + 1 - h;
        }
    }

    /// The positions to draw for a view `height` rows tall.
    fn visible(&self, height: u16) -> std::ops::Range<usize> {
        self.top..(self.top + usize::from(height)).min(self.order.len())
    }

    fn current(&self) -> Option<usize> {
        self.order.get(self.selected).copied()
    }
}

/// The export dialog: a format and an editable path.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportDialog {
    pub format: ReportFormat,
    pub path: String,
}

impl ExportDialog {
    /// `./rustok-audit-<tenant>-<yyyymmdd-hhmm>.html`
    pub fn new(tenant: &str, at: DateTime<Utc>) -> ExportDialog {
        let safe = rustok_domain::text::file_safe(tenant);
        let format = ReportFormat::Html;
        ExportDialog {
            format,
            path: format!(
                "./rustok-audit-{safe}-{}.{}",
                at.format("%Y%m%d-%H%M"),
                format.extension()
            ),
        }
    }

    /// The next format; the path's extension follows it when it was the old format's.
    fn cycle(&mut self, forward: bool) {
        let all = ReportFormat::ALL;
        let i = all.iter().position(|f| *f == self.format).unwrap_or(0);
        let next = if forward {
            all[(i + 1) % all.len()]
        } else {
            all[(i + all.len() - 1) % all.len()]
        };
        let old = format!(".{}", self.format.extension());
        if let Some(stem) = self.path.strip_suffix(&old) {
            self.path = format!("{stem}.{}", next.extension());
        }
        self.format = next;
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditPane {
    pub view: View,
    /// The latest report of the session's tenant.
    pub report: Option<AuditReport>,
    /// Who started the run that produced `report`.
    pub trigger: Option<AuditTrigger>,
    /// A run was asked for and has not answered yet.
    pub running: bool,
    pub access: Access,
    pub findings: Filtered,
    /// Show only findings at or above this severity.
    pub min_severity: Option<Severity>,
    pub log: Window<AuditLogEntry>,
    pub log_access: Access,
    /// The audit log shows entries containing this text (the store filters; `/` edits it).
    pub log_query: String,
    pub log_editing: bool,
    pub tenants: HashMap<TenantId, String>,
    pub staff: Option<Vec<Staff>>,
    pub staff_loading: bool,
    pub staff_access: Access,
    pub staff_list: Filtered,
    /// The member selected before the list reloaded.
    selected_handle: Option<String>,
    pub export: Option<ExportDialog>,
    pending: std::collections::BTreeMap<crate::msg::RequestId, pane::Pending>,
    /// A staff change waiting for "yes": the command and its label.
    armed: Option<(Box<Command>, String)>,
}

fn severity_style(theme: &Theme, s: Severity) -> Style {
    match s {
        Severity::Critical | Severity::High => theme.error(),
        Severity::Medium | Severity::Warning => theme.warning(),
        Severity::Low => theme.key(),
        Severity::Info => theme.muted(),
    }
}

/// "just now", "42 s ago", "3 min ago", "2 h ago", or the date.
pub fn ago(then: DateTime<Utc>, now: Option<DateTime<Utc>>) -> String {
    let Some(now) = now else {
        return format!("at {} UTC", then.format("%H:%M:%S"));
    };
    let s = (now - then).num_seconds().max(0);
    match s {
        0..=4 => "just now".into(),
        5..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("on {}", then.format("%Y-%m-%d %H:%M UTC")),
    }
}

fn finding_key(f: &Finding) -> String {
    format!(
        "{} {} {} {} {} {}",
        f.id,
        f.title,
        f.category.label(),
        f.severity,
        f.tenant.as_deref().unwrap_or(""),
        f.evidence.join(" ")
    )
}

fn staff_key(s: &Staff) -> String {
    format!("{} {} {}", s.handle, s.display_name, s.role)
}

impl AuditPane {
    /// True while typed characters belong to the pane (filter line, export path).
    pub fn captures_text(&self) -> bool {
        self.export.is_some()
            || match self.view {
                View::Findings => self.findings.editing,
                View::Staff => self.staff_list.editing,
                View::Log => self.log_editing,
            }
    }

    /// A report is shown, so continuous monitoring is worth poking on changes.
    pub fn watching(&self) -> bool {
        self.report.is_some()
    }

    fn list_height(body: u16) -> u16 {
        body.saturating_sub(HEADER + 3)
    }

    /// What the visible view is missing (`body` is the pane's height).
    pub fn needs(&mut self, body: u16) -> Vec<Intent> {
        let mut out = Vec::new();
        match self.view {
            View::Findings => {
                if self.report.is_none() && !self.running && self.access == Access::Unknown {
                    self.running = true;
                    out.push(Intent::RunAudit);
                }
            }
            View::Log => {
                if !matches!(self.log_access, Access::Denied(_))
                    && let Some((offset, _)) = self.log.needs(Self::list_height(body))
                {
                    out.push(Intent::LoadLog {
                        offset,
                        limit: LOG_PAGE,
                        filter: self.log_query.clone(),
                    });
                }
            }
            View::Staff => {
                if self.staff.is_none()
                    && !self.staff_loading
                    && !matches!(self.staff_access, Access::Denied(_))
                {
                    self.staff_loading = true;
                    out.push(Intent::LoadStaff);
                }
            }
        }
        out
    }

    /// Recomputes which findings show (filter, severity), most severe first, keeping the
    /// selected finding selected when it still shows.
    fn refilter_findings(&mut self, height: u16) {
        let keep = self
            .findings
            .current()
            .and_then(|i| self.report.as_ref()?.findings.get(i).map(|f| f.id.clone()));
        let Some(report) = &self.report else {
            self.findings.order.clear();
            return;
        };
        let min = self.min_severity;
        let mut order: Vec<usize> = if self.findings.query.trim().is_empty() {
            (0..report.findings.len()).collect()
        } else {
            let keys: Vec<String> = report.findings.iter().map(finding_key).collect();
            crate::fuzzy::rank(&self.findings.query, &keys, |s| s.as_str())
        };
        order.retain(|&i| min.is_none_or(|m| report.findings[i].severity >= m));
        if self.findings.query.trim().is_empty() {
            order.sort_by(|&a, &b| {
                let (fa, fb) = (&report.findings[a], &report.findings[b]);
                fb.severity
                    .cmp(&fa.severity)
                    .then(fa.category.cmp(&fb.category))
                    .then(fa.id.cmp(&fb.id))
                    .then(fa.tenant.cmp(&fb.tenant))
            });
        }
        self.findings.order = order;
        let pos = keep
            .and_then(|id| {
                self.findings
                    .order
                    .iter()
                    .position(|&i| report.findings[i].id == id)
            })
            .unwrap_or(0);
        self.findings.top = 0;
        self.findings.select(pos, height);
        if self.findings.order.is_empty() {
            self.findings.detail = false;
        }
    }

    fn refilter_staff(&mut self, height: u16) {
        let keep = self.selected_handle.take();
        let Some(staff) = &self.staff else {
            self.staff_list.order.clear();
            return;
        };
        let keys: Vec<String> = staff.iter().map(staff_key).collect();
        self.staff_list.order = crate::fuzzy::rank(&self.staff_list.query, &keys, |s| s.as_str());
        let pos = keep
            .and_then(|h| {
                self.staff_list
                    .order
                    .iter()
                    .position(|&i| staff[i].handle == h)
            })
            .unwrap_or(0);
        self.staff_list.top = 0;
        self.staff_list.select(pos, height);
        if self.staff_list.order.is_empty() {
            self.staff_list.detail = false;
        }
    }

    /// A report arrived (asked for, or re-run by monitoring). Reports of another tenant (a
    /// run that started before a tenant switch) are dropped. Returns a line for the status
    /// bar when the automatic re-run changed the findings (`Ok`) or the run failed (`Err`).
    pub fn on_report(
        &mut self,
        trigger: AuditTrigger,
        result: Result<Box<AuditReport>, Failure>,
        tenant: &str,
        body: u16,
    ) -> Option<Result<String, String>> {
        if trigger == AuditTrigger::Manual {
            self.running = false;
        }
        let report = match result {
            Ok(r) => r,
            Err(f) => {
                self.access = Access::of(&f);
                if matches!(self.access, Access::Denied(_)) {
                    self.report = None;
                    self.findings = Filtered::default();
                }
                return match &self.access {
                    Access::Failed(why) => Some(Err(format!("the audit could not run: {why}"))),
                    _ => None,
                };
            }
        };
        if report.tenant.as_deref().is_some_and(|t| t != tenant) {
            return None;
        }
        self.access = Access::Allowed;
        let before = self.report.as_ref().map(|r| {
            let mut ids: Vec<(String, Option<String>)> = r
                .findings
                .iter()
                .map(|f| (f.id.clone(), f.tenant.clone()))
                .collect();
            ids.sort();
            (ids, r.score)
        });
        let mut after_ids: Vec<(String, Option<String>)> = report
            .findings
            .iter()
            .map(|f| (f.id.clone(), f.tenant.clone()))
            .collect();
        after_ids.sort();
        let score = report.score;
        self.report = Some(*report);
        self.trigger = Some(trigger);
        self.refilter_findings(Self::list_height(body));
        match (trigger, before) {
            (AuditTrigger::Automatic, Some((ids, old_score))) if ids != after_ids => {
                let gone = ids.iter().filter(|i| !after_ids.contains(i)).count();
                let new = after_ids.iter().filter(|i| !ids.contains(i)).count();
                Some(Ok(format!(
                    "the audit re-ran automatically after a change: {gone} resolved, {new} new, score {old_score} → {score}"
                )))
            }
            _ => None,
        }
    }

    pub fn on_log(&mut self, page: Page<AuditLogEntry>, tenants: Vec<(TenantId, String)>) {
        self.log_access = Access::Allowed;
        self.tenants.extend(tenants);
        self.log.on_page(page);
    }

    pub fn on_log_failed(&mut self, f: &Failure) {
        self.log.on_failed();
        self.log_access = Access::of(f);
    }

    pub fn on_staff(&mut self, staff: Vec<Staff>, body: u16) {
        if self.selected_handle.is_none() {
            self.selected_handle = self.selected_staff().map(|s| s.handle.clone());
        }
        self.staff_loading = false;
        self.staff_access = Access::Allowed;
        self.staff = Some(staff);
        self.refilter_staff(Self::list_height(body));
    }

    pub fn on_staff_failed(&mut self, f: &Failure) {
        self.staff_loading = false;
        self.staff_access = Access::of(f);
    }

    /// A command ran: the audit log reloads when next shown.
    pub fn invalidate_log(&mut self) {
        self.log.invalidate();
    }

    /// A staff member changed: the staff list reloads when next shown (keeping the
    /// selected member selected).
    pub fn invalidate_staff(&mut self) {
        if !self.staff_loading && self.staff.is_some() {
            self.selected_handle = self.selected_staff().map(|s| s.handle.clone());
            self.staff = None;
        }
    }

    /// Keys while the filter line or the export dialog is open.
    pub fn on_text_key(&mut self, key: KeyEvent, body: u16) -> Vec<Intent> {
        let h = Self::list_height(body);
        if let Some(d) = &mut self.export {
            match key.code {
                KeyCode::Esc => self.export = None,
                KeyCode::Enter => {
                    let d = d.clone();
                    self.export = None;
                    if d.path.trim().is_empty() {
                        return vec![Intent::Info("no file name: export cancelled".into())];
                    }
                    return vec![Intent::Export {
                        format: d.format,
                        path: d.path.trim().to_string(),
                    }];
                }
                KeyCode::Tab | KeyCode::Right => d.cycle(true),
                KeyCode::BackTab | KeyCode::Left => d.cycle(false),
                KeyCode::Backspace => {
                    d.path.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    d.path.push(c)
                }
                _ => {}
            }
            return vec![];
        }
        let list = match self.view {
            View::Findings => &mut self.findings,
            View::Staff => &mut self.staff_list,
            View::Log => {
                // The store filters the log: each change asks for the first page again.
                let before = self.log_query.clone();
                match key.code {
                    KeyCode::Esc => {
                        self.log_editing = false;
                        self.log_query.clear();
                    }
                    KeyCode::Enter => self.log_editing = false,
                    KeyCode::Backspace => {
                        self.log_query.pop();
                    }
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                        self.log_query.push(c)
                    }
                    _ => {}
                }
                if self.log_query != before {
                    self.log = Window::default();
                    return self.needs(body);
                }
                return vec![];
            }
        };
        match key.code {
            KeyCode::Esc => {
                list.editing = false;
                list.query.clear();
            }
            KeyCode::Enter => {
                list.editing = false;
                return vec![];
            }
            KeyCode::Backspace => {
                list.query.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                list.query.push(c)
            }
            _ => return vec![],
        }
        match self.view {
            View::Findings => self.refilter_findings(h),
            _ => self.refilter_staff(h),
        }
        vec![]
    }

    /// The pane's keys; `None` leaves the action to the global bindings.
    pub fn on_action(
        &mut self,
        action: Action,
        (width, body): (u16, u16),
        tenant: &str,
        now: Option<DateTime<Utc>>,
    ) -> Option<Vec<Intent>> {
        let h = Self::list_height(body);
        let page = i64::from(h.max(1));
        Some(match action {
            Action::AuditFindings => {
                self.view = View::Findings;
                vec![]
            }
            Action::AuditLog => {
                self.view = View::Log;
                vec![]
            }
            Action::AuditStaff => {
                self.view = View::Staff;
                vec![]
            }
            Action::RerunAudit => {
                self.running = true;
                self.view = View::Findings;
                vec![Intent::RunAudit]
            }
            Action::ExportAudit => match &self.report {
                Some(r) => {
                    let at = now.unwrap_or(r.generated_at);
                    self.export = Some(ExportDialog::new(tenant, at));
                    vec![]
                }
                None => vec![Intent::Info(
                    "no report to export yet (r runs the audit)".into(),
                )],
            },
            Action::CycleSeverity if self.view == View::Findings => {
                let order = Severity::DESCENDING;
                self.min_severity = match self.min_severity {
                    None => Some(order[0]),
                    Some(Severity::Low) | Some(Severity::Info) => None,
                    Some(s) => order.iter().position(|x| *x == s).map(|i| order[i + 1]),
                };
                self.refilter_findings(h);
                vec![]
            }
            Action::Filter => {
                match self.view {
                    View::Findings => self.findings.editing = true,
                    View::Staff => self.staff_list.editing = true,
                    View::Log => self.log_editing = true,
                }
                vec![]
            }
            // An open detail longer than the screen scrolls; ↑/↓ still go to the previous or
            // next item.
            Action::PageUp | Action::PageDown | Action::Top | Action::Bottom
                if self.detail_open() =>
            {
                let (rows, max) = self.detail_extent(width, body);
                let list = match self.view {
                    View::Staff => &mut self.staff_list,
                    _ => &mut self.findings,
                };
                let page = rows.saturating_sub(1).max(1);
                list.scroll = match action {
                    Action::PageUp => list.scroll.saturating_sub(page),
                    Action::PageDown => list.scroll.saturating_add(page).min(max),
                    Action::Top => 0,
                    _ => max,
                };
                vec![]
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => {
                let delta = match action {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -page,
                    Action::PageDown => page,
                    Action::Top => i64::MIN / 2,
                    _ => i64::MAX / 2,
                };
                match self.view {
                    View::Findings => {
                        self.findings.move_by(delta, h);
                        self.findings.scroll = 0;
                    }
                    View::Staff => {
                        self.staff_list.move_by(delta, h);
                        self.staff_list.scroll = 0;
                    }
                    View::Log => match action {
                        Action::Top => self.log.select(0, h),
                        Action::Bottom => self.log.select(u64::MAX, h),
                        _ => self.log.move_by(delta, h),
                    },
                }
                vec![]
            }
            Action::Open => {
                match self.view {
                    View::Findings if self.findings.current().is_some() => {
                        self.findings.detail = true;
                        self.findings.scroll = 0;
                    }
                    View::Staff if self.staff_list.current().is_some() => {
                        self.staff_list.detail = true;
                        self.staff_list.scroll = 0;
                    }
                    _ => {}
                }
                vec![]
            }
            Action::Back => {
                let list = match self.view {
                    View::Findings => Some(&mut self.findings),
                    View::Staff => Some(&mut self.staff_list),
                    View::Log => None,
                };
                if self.view == View::Log && !self.log_query.is_empty() {
                    self.log_query.clear();
                    self.log = Window::default();
                } else if let Some(l) = list {
                    if l.detail {
                        l.detail = false;
                    } else if !l.query.is_empty() {
                        l.query.clear();
                        match self.view {
                            View::Findings => self.refilter_findings(h),
                            _ => self.refilter_staff(h),
                        }
                    } else if self.view == View::Findings && self.min_severity.is_some() {
                        self.min_severity = None;
                        self.refilter_findings(h);
                    }
                } else {
                    self.view = View::Findings;
                }
                vec![]
            }
            Action::ToggleMfa | Action::ToggleActive => {
                let target = match self.view {
                    View::Staff => self.selected_staff().cloned(),
                    _ => None,
                };
                let Some(s) = target else {
                    return Some(vec![Intent::Info(
                        "select a staff member in the Staff view (s) first".into(),
                    )]);
                };
                let handle = printable(&s.handle);
                vec![if action == Action::ToggleMfa {
                    let on = !s.mfa_enabled;
                    Intent::Confirm {
                        title: format!("Turn MFA {} for {handle}?", if on { "on" } else { "off" }),
                        message: if on {
                            format!("{handle} will be required to use multi-factor authentication.")
                        } else {
                            format!(
                                "{handle} will sign in with a single factor (the audit reports it)."
                            )
                        },
                        command: Box::new(Command::SetStaffMfa {
                            handle: s.handle.clone(),
                            enabled: on,
                        }),
                        label: format!("MFA {} for {handle}", if on { "on" } else { "off" }),
                    }
                } else {
                    let active = !s.active;
                    Intent::Confirm {
                        title: format!(
                            "{} {handle}?",
                            if active { "Activate" } else { "Deactivate" }
                        ),
                        message: if active {
                            format!("{handle} will be able to sign in and act again.")
                        } else {
                            format!("{handle} will be refused on every command and login.")
                        },
                        command: Box::new(Command::SetStaffActive {
                            handle: s.handle.clone(),
                            active,
                        }),
                        label: format!(
                            "{handle} {}",
                            if active { "activated" } else { "deactivated" }
                        ),
                    }
                }]
            }
            Action::Refresh => {
                self.log.invalidate();
                self.staff = None;
                self.staff_access = Access::Unknown;
                self.log_access = Access::Unknown;
                if self.view == View::Findings {
                    self.running = true;
                    return Some(vec![Intent::RunAudit]);
                }
                vec![]
            }
            _ => return None,
        })
    }

    pub fn selected_finding(&self) -> Option<&Finding> {
        let i = self.findings.current()?;
        self.report.as_ref()?.findings.get(i)
    }

    pub fn selected_staff(&self) -> Option<&Staff> {
        let i = self.staff_list.current()?;
        self.staff.as_ref()?.get(i)
    }

    /// Whether a finding's or a staff member's detail is open in the visible view.
    fn detail_open(&self) -> bool {
        match self.view {
            View::Findings => self.findings.detail,
            View::Staff => self.staff_list.detail,
            View::Log => false,
        }
    }

    /// The open detail's lines (styled with `theme`), if one is open.
    fn detail_lines(&self, theme: &Theme) -> Option<Vec<Line<'static>>> {
        match self.view {
            View::Findings if self.findings.detail => {
                self.selected_finding().map(|f| finding_lines(f, theme))
            }
            View::Staff if self.staff_list.detail => {
                self.selected_staff().map(|s| staff_lines(s, theme))
            }
            _ => None,
        }
    }

    /// For the open detail in a pane `width` × `body`: the rows it has on screen and the
    /// furthest it can scroll (0 when it fits).
    fn detail_extent(&self, width: u16, body: u16) -> (u16, u16) {
        let area = Rect::new(0, 0, width, body.saturating_sub(HEADER));
        let inner = Block::bordered().inner(area);
        let total = self.detail_lines(&Theme::default()).map_or(0, |lines| {
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .line_count(inner.width)
        });
        let total = u16::try_from(total).unwrap_or(u16::MAX);
        (inner.height, total.saturating_sub(inner.height))
    }

    /// Draws the open detail with its title; scrolled to `scroll` (clamped to the text), and
    /// when it does not fit, the title says which lines are shown and how to see the rest.
    fn draw_detail(&self, frame: &mut Frame, area: Rect, theme: &Theme, mut title: Vec<Span>) {
        let Some(lines) = self.detail_lines(theme) else {
            return;
        };
        let scroll = match self.view {
            View::Staff => self.staff_list.scroll,
            _ => self.findings.scroll,
        };
        let (rows, max) = self.detail_extent(area.width, area.height + HEADER);
        let scroll = scroll.min(max);
        if max > 0 {
            let total = u32::from(rows) + u32::from(max);
            let last = u32::from(scroll) + u32::from(rows);
            title.push(Span::styled(
                format!(
                    "· lines {}–{last} of {total} · PgUp/PgDn scroll ",
                    u32::from(scroll) + 1
                ),
                theme.key(),
            ));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0))
                .block(
                    Block::bordered()
                        .border_style(theme.border(true))
                        .title(Line::from(title)),
                ),
            area,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn export_paths_follow_the_format() {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 4, 5, 0).unwrap();
        let mut d = ExportDialog::new("acme shop", at);
        assert_eq!(d.path, "./rustok-audit-acme_shop-20261124-0405.html");
        d.cycle(true);
        assert_eq!(d.format, ReportFormat::Markdown);
        assert!(d.path.ends_with(".md"));
        d.path = "/tmp/custom.txt".into();
        d.cycle(true);
        assert_eq!(
            (d.format, d.path.as_str()),
            (ReportFormat::Json, "/tmp/custom.txt")
        );
    }

    #[test]
    fn ago_reads_naturally() {
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 4, 0, 0).unwrap();
        assert_eq!(ago(t, Some(t)), "just now");
        assert_eq!(ago(t, Some(t + chrono::Duration::seconds(42))), "42 s ago");
        assert_eq!(ago(t, Some(t + chrono::Duration::minutes(3))), "3 min ago");
        assert_eq!(ago(t, None), "at 04:00:00 UTC");
    }
}
