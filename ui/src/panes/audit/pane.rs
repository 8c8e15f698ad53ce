//! The Audit pane as a component: it turns its [`Intent`]s into requests and effects, takes
//! the replies, reloads on the events it cares about, and names its command bar.

use super::{AuditPane, Intent, View};
use crate::action::Action;
use crate::keymap::Context;
use crate::msg::{AuditTrigger, Effect, Failure, Query, QueryResult, RequestId};
use crate::panes::{Bar, Ctx, Key, Pane};
use ratatui::crossterm::event::KeyEvent;
use rustok_domain::audit::AuditReport;
use rustok_domain::event::EventEnvelope;
use rustok_domain::read::Applied;
use rustok_domain::text::printable;

#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    /// A page of the audit log for this filter (a page for an older filter is dropped).
    Log(String),
    Staff,
    StaffChange(String),
}

impl AuditPane {
    /// Turns what the pane needs into requests and effects.
    fn apply(&mut self, intents: Vec<Intent>, ctx: &mut Ctx) {
        for i in intents {
            match i {
                Intent::RunAudit => ctx.effect(Effect::RunAudit),
                Intent::LoadLog {
                    offset,
                    limit,
                    filter,
                } => {
                    let r = ctx.load(Query::AuditLog {
                        offset,
                        limit,
                        filter: filter.clone(),
                    });
                    self.pending.insert(r, Pending::Log(filter));
                }
                Intent::LoadStaff => {
                    let r = ctx.load(Query::Staff);
                    self.pending.insert(r, Pending::Staff);
                }
                Intent::Export { format, path } => {
                    if let Some(r) = self.report.clone() {
                        ctx.info(format!("writing {}…", printable(&path)));
                        ctx.effect(Effect::ExportAudit {
                            report: Box::new(r),
                            format,
                            path,
                        });
                    }
                }
                Intent::Info(text) => ctx.info(text),
                Intent::Confirm {
                    title,
                    message,
                    command,
                    label,
                } => {
                    self.armed = Some((command, label));
                    ctx.confirm(title, message);
                }
            }
        }
    }

    /// A report came back from the runtime.
    pub fn on_report_msg(
        &mut self,
        trigger: AuditTrigger,
        result: Result<Box<AuditReport>, Failure>,
        ctx: &mut Ctx,
    ) {
        let tenant = ctx.session.tenant.slug.clone();
        match self.on_report(trigger, result, &tenant, ctx.body_height()) {
            Some(Ok(line)) => ctx.info(line),
            Some(Err(line)) => ctx.error(line),
            None => {}
        }
    }
}

impl Pane for AuditPane {
    fn reload(&mut self, ctx: &mut Ctx) {
        let intents = self.needs(ctx.body_height());
        self.apply(intents, ctx);
    }

    fn invalidate(&mut self) {
        self.invalidate_log();
        self.invalidate_staff();
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key {
        if self.captures_text() {
            let intents = self.on_text_key(key, ctx.body_height());
            self.apply(intents, ctx);
            return Key::Consumed;
        }
        let Some(action) = ctx.action(Context::Audit, &key) else {
            return Key::Unused(None);
        };
        if ctx.refuses(action) {
            return Key::Consumed;
        }
        let tenant = ctx.session.tenant.slug.clone();
        let body = (ctx.size.0, ctx.body_height());
        match self.on_action(action, body, &tenant, ctx.now) {
            Some(intents) => {
                self.apply(intents, ctx);
                self.reload(ctx);
                Key::Consumed
            }
            None => Key::Unused(Some(action)),
        }
    }

    fn on_loaded(&mut self, id: RequestId, result: Result<QueryResult, Failure>, ctx: &mut Ctx) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        match (p, result) {
            // The pane says why (a denial is not an error of the console).
            (Pending::Log(_), Err(f)) => self.on_log_failed(&f),
            (Pending::Staff, Err(f)) => self.on_staff_failed(&f),
            (_, Err(f)) => ctx.error(format!("could not load: {f}")),
            (Pending::Log(filter), Ok(QueryResult::AuditLog(page, tenants)))
                if filter == self.log_query =>
            {
                self.on_log(page, tenants);
                self.reload(ctx);
            }
            (Pending::Staff, Ok(QueryResult::Staff(staff))) => {
                self.on_staff(staff, ctx.body_height())
            }
            _ => {}
        }
    }

    fn on_outcome(&mut self, id: RequestId, result: Result<Applied, Failure>, ctx: &mut Ctx) {
        let Some(Pending::StaffChange(label)) = self.pending.remove(&id) else {
            return;
        };
        match result {
            Ok(_) => {
                self.invalidate_staff();
                ctx.info(label);
            }
            Err(f) => ctx.error(f.to_string()),
        }
    }

    /// Every command is in the audit log; staff and tenant changes are what the security
    /// audit reads, so continuous monitoring checks at once instead of at its next tick.
    fn on_event(&mut self, e: &EventEnvelope, ctx: &mut Ctx) {
        self.invalidate_log();
        let kind = e.aggregate_type.as_str();
        if kind == "staff" {
            self.invalidate_staff();
        }
        if matches!(kind, "staff" | "tenant") && self.watching() {
            ctx.effect(Effect::CheckAudit);
        }
    }

    fn confirmed(&mut self, ctx: &mut Ctx) {
        if let Some((command, label)) = self.armed.take()
            && let Some(r) = ctx.dispatch(*command)
        {
            self.pending.insert(r, Pending::StaffChange(label));
        }
    }

    fn bar(&self) -> Bar {
        use Action as A;
        use Context::{Audit, Global};
        if let Some(d) = &self.export {
            return Bar::Input(
                "file: ",
                d.path.clone(),
                "Tab format · Enter write · Esc cancel",
            );
        }
        if self.captures_text() {
            let q = match self.view {
                View::Staff => &self.staff_list.query,
                View::Log => &self.log_query,
                View::Findings => &self.findings.query,
            };
            return Bar::Input("/", q.clone(), "Enter keep · Esc clear");
        }
        let detail = match self.view {
            View::Findings => self.findings.detail,
            View::Staff => self.staff_list.detail,
            View::Log => false,
        };
        let mut v = vec![
            (Audit, A::AuditFindings),
            (Audit, A::AuditLog),
            (Audit, A::AuditStaff),
        ];
        match self.view {
            _ if detail => v.push((Audit, A::Back)),
            View::Findings => v.extend([
                (Audit, A::Open),
                (Audit, A::Filter),
                (Audit, A::CycleSeverity),
                (Audit, A::RerunAudit),
                (Audit, A::ExportAudit),
            ]),
            View::Staff => v.extend([
                (Audit, A::Open),
                (Audit, A::Filter),
                (Audit, A::ToggleMfa),
                (Audit, A::ToggleActive),
            ]),
            View::Log => v.push((Global, A::Refresh)),
        }
        v.extend([(Global, A::Help), (Global, A::Quit)]);
        Bar::Keys(v)
    }

    fn busy(&self) -> Option<String> {
        self.pending.values().find_map(|p| match p {
            Pending::StaffChange(label) => Some(format!("{label}…")),
            _ => None,
        })
    }
}
