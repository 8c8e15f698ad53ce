//! How the Audit pane draws itself: header, findings, log, staff, details, the export dialog.

use super::*;

impl AuditPane {
    // ----- draw -------------------------------------------------------------------------

    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        tenant: &str,
        now: Option<DateTime<Utc>>,
    ) {
        let [header, body] =
            Layout::vertical([Constraint::Length(HEADER), Constraint::Fill(1)]).areas(area);
        self.draw_header(frame, header, theme, tenant, now);
        match self.view {
            View::Findings => match &self.access {
                Access::Denied(why) => {
                    crate::widgets::dialog::denied(frame, body, theme, "Findings", why)
                }
                _ if self.findings.detail => self.draw_finding(frame, body, theme),
                _ => self.draw_findings(frame, body, theme),
            },
            View::Log => match &self.log_access {
                Access::Denied(why) => {
                    crate::widgets::dialog::denied(frame, body, theme, "Audit log", why)
                }
                _ => self.draw_log(frame, body, theme),
            },
            View::Staff => match &self.staff_access {
                Access::Denied(why) => {
                    crate::widgets::dialog::denied(frame, body, theme, "Staff", why)
                }
                _ if self.staff_list.detail => self.draw_staff_member(frame, body, theme),
                _ => self.draw_staff(frame, body, theme),
            },
        }
        if let Some(d) = &self.export {
            draw_export(frame, area, theme, d);
        }
    }

    fn draw_header(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        tenant: &str,
        now: Option<DateTime<Utc>>,
    ) {
        let tab = |label: &str, key: &str, v: View| -> Vec<Span<'static>> {
            let style = if self.view == v {
                theme.tab_active()
            } else {
                theme.muted()
            };
            vec![
                Span::styled(format!(" {label} "), style),
                Span::styled(format!("({key}) "), theme.muted()),
            ]
        };
        let mut views: Vec<Span> = Vec::new();
        views.extend(tab("Findings", "f", View::Findings));
        views.extend(tab("Audit log", "l", View::Log));
        views.extend(tab("Staff", "s", View::Staff));
        let mut lines: Vec<Line> = Vec::new();
        match (&self.report, &self.access) {
            (_, Access::Denied(_)) => {
                lines.push(Line::styled(
                    "The security audit is not available to you (see below).",
                    theme.warning(),
                ));
                lines.push(Line::raw(""));
            }
            (None, Access::Failed(why)) => {
                lines.push(Line::styled(
                    format!("The audit could not run: {}", printable(why)),
                    theme.error(),
                ));
                lines.push(Line::styled("r tries again", theme.muted()));
            }
            (None, _) => {
                lines.push(Line::styled(
                    format!(
                        "Running the security audit of tenant {}…",
                        printable(tenant)
                    ),
                    theme.muted(),
                ));
                lines.push(Line::raw(""));
            }
            (Some(r), _) => {
                let verdict = if r.passed {
                    Span::styled(" PASS ", theme.success())
                } else {
                    Span::styled(" FAIL ", theme.error())
                };
                lines.push(Line::from(vec![
                    Span::styled("Score ", theme.muted()),
                    Span::styled(format!("{}/100", r.score), theme.title()),
                    verdict,
                    Span::styled("(pass ≥ 80)   ", theme.muted()),
                    Span::styled("tenant ", theme.muted()),
                    Span::raw(printable(r.tenant.as_deref().unwrap_or("all"))),
                    Span::styled(
                        format!("   {} checks · {} findings", r.checks_run, r.findings.len()),
                        theme.muted(),
                    ),
                ]));
                let mut counts: Vec<Span> = Vec::new();
                for s in Severity::DESCENDING {
                    let n = r.counts.get(s);
                    let style = if n == 0 {
                        theme.muted()
                    } else {
                        severity_style(theme, s)
                    };
                    counts.push(Span::styled(format!("{n} {s}"), style));
                    counts.push(Span::raw("  "));
                }
                let how = match (self.running, self.trigger) {
                    (true, _) => "re-running now…".to_string(),
                    (false, Some(AuditTrigger::Automatic)) => format!(
                        "ran {}, automatically after a change",
                        ago(r.generated_at, now)
                    ),
                    (false, _) => format!("ran {} by you", ago(r.generated_at, now)),
                };
                counts.push(Span::styled(format!("· {how}"), theme.muted()));
                lines.push(Line::from(counts));
            }
        }
        lines.push(Line::from(views));
        frame.render_widget(
            Paragraph::new(lines).block(
                Block::bordered()
                    .border_style(theme.border(false))
                    .title(Span::styled(" Security audit ", theme.title())),
            ),
            area,
        );
    }

    fn draw_findings(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let shown = self.findings.order.len();
        let mut title = vec![Span::styled(" Findings ", theme.title())];
        if let Some(r) = &self.report {
            title.push(Span::styled(
                format!("{shown} of {} ", r.findings.len()),
                theme.muted(),
            ));
        }
        if let Some(m) = self.min_severity {
            title.push(Span::styled(
                format!("· {m} and above "),
                severity_style(theme, m),
            ));
        }
        if !self.findings.query.is_empty() || self.findings.editing {
            title.push(Span::styled(
                format!("· /{} ", printable(&self.findings.query)),
                theme.key(),
            ));
        }
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(title));
        let Some(report) = &self.report else {
            frame.render_widget(Paragraph::new("").block(block), area);
            return;
        };
        if report.findings.is_empty() {
            frame.render_widget(
                Paragraph::new("No findings: every check passed.")
                    .style(theme.success())
                    .block(block),
                area,
            );
            return;
        }
        if shown == 0 {
            frame.render_widget(
                Paragraph::new("No finding matches (Esc clears the filter).")
                    .style(theme.muted())
                    .block(block),
                area,
            );
            return;
        }
        let height = area.height.saturating_sub(3);
        let rows: Vec<Row> = self
            .findings
            .visible(height)
            .map(|pos| {
                let f = &report.findings[self.findings.order[pos]];
                let row = Row::new(vec![
                    Cell::from(f.severity.as_str().to_uppercase())
                        .style(severity_style(theme, f.severity)),
                    Cell::from(f.id.clone()),
                    Cell::from(f.category.label()),
                    Cell::from(printable(&f.title)),
                    Cell::from(printable(f.tenant.as_deref().unwrap_or("-"))),
                ]);
                if pos == self.findings.selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(9),
                Constraint::Length(10),
                Constraint::Length(17),
                Constraint::Fill(1),
                Constraint::Length(12),
            ],
        )
        .header(
            Row::new(["SEVERITY", "CHECK", "CATEGORY", "FINDING", "TENANT"]).style(theme.muted()),
        )
        .block(block);
        frame.render_widget(table, area);
    }

    fn draw_finding(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = vec![
            Span::styled(" Finding ", theme.title()),
            Span::styled(
                format!(
                    "{} of {} · ↑/↓ previous/next · Esc back ",
                    self.findings.selected + 1,
                    self.findings.order.len()
                ),
                theme.muted(),
            ),
        ];
        self.draw_detail(frame, area, theme, title);
    }

    fn draw_log(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let w = &self.log;
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from({
                let mut title = vec![
                    Span::styled(" Audit log ", theme.title()),
                    Span::styled(
                        format!(
                            "{} {}, newest first ",
                            group(w.total()),
                            if self.log_query.is_empty() {
                                "entries"
                            } else {
                                "matching"
                            }
                        ),
                        theme.muted(),
                    ),
                ];
                if !self.log_query.is_empty() || self.log_editing {
                    title.push(Span::styled(
                        format!("· /{} ", printable(&self.log_query)),
                        theme.key(),
                    ));
                }
                title
            }));
        if let Access::Failed(why) = &self.log_access {
            frame.render_widget(
                Paragraph::new(format!("could not load the audit log: {}", printable(why)))
                    .style(theme.error())
                    .block(block),
                area,
            );
            return;
        }
        if !w.is_loaded() {
            frame.render_widget(
                Paragraph::new("loading…").style(theme.muted()).block(block),
                area,
            );
            return;
        }
        if w.total() == 0 && !self.log_query.is_empty() {
            frame.render_widget(
                Paragraph::new("No entry matches (Esc clears the filter).")
                    .style(theme.muted())
                    .block(block),
                area,
            );
            return;
        }
        if w.total() == 0 {
            frame.render_widget(
                Paragraph::new("The audit log is empty: no staff action was recorded yet.")
                    .style(theme.muted())
                    .block(block),
                area,
            );
            return;
        }
        let height = area.height.saturating_sub(3);
        let rows: Vec<Row> = w
            .visible(height)
            .map(|i| match w.row(i) {
                Some(e) => {
                    let tenant = self
                        .tenants
                        .get(&e.tenant_id)
                        .map(|s| printable(s))
                        .unwrap_or_else(|| {
                            crate::widgets::node_list::short_id(e.tenant_id.as_uuid())
                        });
                    let outcome_style = match e.outcome {
                        AuditOutcome::Ok => theme.success(),
                        AuditOutcome::Denied => theme.error(),
                        AuditOutcome::Refused | AuditOutcome::Error => theme.warning(),
                    };
                    let row = Row::new(vec![
                        Cell::from(e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                        Cell::from(printable(&e.actor)),
                        Cell::from(e.command.clone()),
                        Cell::from(tenant),
                        Cell::from(printable(e.session.as_deref().unwrap_or("-"))),
                        Cell::from(e.outcome.as_str()).style(outcome_style),
                        Cell::from(printable(e.reason.as_deref().unwrap_or(""))),
                    ]);
                    if i == w.selected_index() {
                        row.style(theme.selected())
                    } else {
                        row
                    }
                }
                None => Row::new(vec![Cell::from("…")]),
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(19),
                Constraint::Length(12),
                Constraint::Length(18),
                Constraint::Length(10),
                Constraint::Length(14),
                Constraint::Length(7),
                Constraint::Fill(1),
            ],
        )
        .header(
            Row::new([
                "WHEN (UTC)",
                "WHO",
                "ACTION",
                "TENANT",
                "SESSION",
                "OUTCOME",
                "REASON",
            ])
            .style(theme.muted()),
        )
        .block(block);
        frame.render_widget(table, area);
    }

    fn draw_staff(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut title = vec![Span::styled(" Staff ", theme.title())];
        if let Some(s) = &self.staff {
            title.push(Span::styled(
                format!("{} of {} ", self.staff_list.order.len(), s.len()),
                theme.muted(),
            ));
        }
        if !self.staff_list.query.is_empty() || self.staff_list.editing {
            title.push(Span::styled(
                format!("· /{} ", printable(&self.staff_list.query)),
                theme.key(),
            ));
        }
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(title));
        if let Access::Failed(why) = &self.staff_access {
            frame.render_widget(
                Paragraph::new(format!("could not load the staff: {}", printable(why)))
                    .style(theme.error())
                    .block(block),
                area,
            );
            return;
        }
        let Some(staff) = &self.staff else {
            frame.render_widget(
                Paragraph::new("loading…").style(theme.muted()).block(block),
                area,
            );
            return;
        };
        let height = area.height.saturating_sub(3);
        let on_off = |b: bool, good: bool| {
            let style = if b == good {
                theme.success()
            } else {
                theme.warning()
            };
            Cell::from(if b { "yes" } else { "no" }).style(style)
        };
        let rows: Vec<Row> = self
            .staff_list
            .visible(height)
            .map(|pos| {
                let s = &staff[self.staff_list.order[pos]];
                let row = Row::new(vec![
                    Cell::from(printable(&s.handle)),
                    Cell::from(printable(&s.display_name)),
                    Cell::from(s.role.as_str()),
                    on_off(s.mfa_enabled, true),
                    Cell::from(s.ssh_keys.len().to_string()),
                    Cell::from(if s.has_password { "set" } else { "-" }),
                    Cell::from(if s.active { "active" } else { "inactive" }).style(if s.active {
                        Style::new()
                    } else {
                        theme.muted()
                    }),
                ]);
                if pos == self.staff_list.selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(20),
                Constraint::Fill(1),
                Constraint::Length(9),
                Constraint::Length(5),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(9),
            ],
        )
        .header(
            Row::new([
                "HANDLE", "NAME", "ROLE", "MFA", "SSH KEYS", "PASSWORD", "STATE",
            ])
            .style(theme.muted()),
        )
        .block(block);
        frame.render_widget(table, area);
    }

    fn draw_staff_member(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = vec![
            Span::styled(" Staff member ", theme.title()),
            Span::styled("↑/↓ previous/next · Esc back ", theme.muted()),
        ];
        self.draw_detail(frame, area, theme, title);
    }
}

/// A finding's detail: what it is, the evidence, how to fix it, the controls it maps to.
pub(super) fn finding_lines(f: &Finding, theme: &Theme) -> Vec<Line<'static>> {
    let label = |s: &str| Span::styled(format!("{s:<14}"), theme.muted());
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", f.severity.as_str().to_uppercase()),
                severity_style(theme, f.severity),
            ),
            Span::styled(format!("{} ", f.id), theme.key()),
            Span::styled(printable(&f.title), theme.title()),
        ]),
        Line::raw(""),
        Line::from(vec![label("Category"), Span::raw(f.category.label())]),
        Line::from(vec![
            label("Severity"),
            Span::styled(f.severity.as_str(), severity_style(theme, f.severity)),
            Span::styled(
                format!("  (−{} points)", f.severity.penalty()),
                theme.muted(),
            ),
        ]),
        Line::from(vec![
            label("CWE"),
            Span::raw(f.cwe.clone().unwrap_or_else(|| "-".into())),
            Span::styled("   CVSS ", theme.muted()),
            Span::raw(f.cvss.map_or("-".into(), |c| format!("{c:.1}"))),
        ]),
        Line::from(vec![
            label("Tenant"),
            Span::raw(printable(f.tenant.as_deref().unwrap_or("deployment-wide"))),
        ]),
        Line::raw(""),
        Line::styled("Description", theme.title()),
        Line::raw(printable(&f.description)),
        Line::raw(""),
        Line::styled("Evidence", theme.title()),
    ];
    if f.evidence.is_empty() {
        lines.push(Line::styled("  (none recorded)", theme.muted()));
    }
    for e in &f.evidence {
        lines.push(Line::raw(format!("  • {}", printable(e))));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("Remediation", theme.title()),
        Span::styled(
            format!("  (effort: {})", f.remediation.effort.label()),
            theme.muted(),
        ),
    ]));
    lines.push(Line::raw(printable(&f.remediation.steps)));
    lines.push(Line::raw(""));
    lines.push(Line::styled("Compliance", theme.title()));
    if f.compliance.is_empty() {
        lines.push(Line::styled("  -", theme.muted()));
    }
    for c in &f.compliance {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<14}", c.framework.label()), theme.key()),
            Span::raw(printable(&c.control)),
        ]));
    }
    lines
}

/// A staff member's detail: role and what it grants, MFA, password, keys.
pub(super) fn staff_lines(s: &Staff, theme: &Theme) -> Vec<Line<'static>> {
    let label = |t: &str| Span::styled(format!("{t:<14}"), theme.muted());
    let yes_no = |b: bool, good: bool| {
        Span::styled(
            if b { "yes" } else { "no" },
            if b == good {
                theme.success()
            } else {
                theme.warning()
            },
        )
    };
    let grants: Vec<&str> = MATRIX
        .iter()
        .find(|(r, _)| *r == s.role)
        .map(|(_, g)| g.to_vec())
        .unwrap_or_default();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(printable(&s.handle), theme.title()),
            Span::raw(format!("  {}", printable(&s.display_name))),
        ]),
        Line::raw(""),
        Line::from(vec![
            label("Role"),
            Span::styled(s.role.as_str(), theme.key()),
        ]),
        Line::from(vec![label("Permissions"), Span::raw(grants.join(", "))]),
        Line::from(vec![label("MFA"), yes_no(s.mfa_enabled, true)]),
        Line::from(vec![
            label("Password"),
            Span::raw(if s.has_password {
                "set (argon2 hash stored)"
            } else {
                "not set"
            }),
        ]),
        Line::from(vec![label("Active"), yes_no(s.active, true)]),
        Line::from(vec![
            label("Created"),
            Span::raw(s.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            Span::styled("   updated ", theme.muted()),
            Span::raw(s.updated_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        ]),
        Line::raw(""),
        Line::styled(format!("SSH keys ({})", s.ssh_keys.len()), theme.title()),
    ];
    if s.ssh_keys.is_empty() {
        lines.push(Line::styled(
            "  none: this staff member cannot log in over SSH",
            theme.muted(),
        ));
    }
    for k in &s.ssh_keys {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<12}", k.algorithm), theme.key()),
            Span::raw(k.fingerprint.clone()),
            Span::styled(
                format!(
                    "  {}{}",
                    k.bits.map(|b| format!("{b} bits ")).unwrap_or_default(),
                    printable(k.comment.as_deref().unwrap_or(""))
                ),
                theme.muted(),
            ),
        ]));
    }
    if s.role == Role::Owner {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Owners can only be changed by another owner.",
            theme.muted(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "Change with: rustok staff role|mfa|activate|deactivate {}",
            printable(&s.handle)
        ),
        theme.muted(),
    ));
    lines
}

fn draw_export(frame: &mut Frame, area: Rect, theme: &Theme, d: &ExportDialog) {
    let rect = crate::widgets::dialog::centered(area, 76, 7);
    frame.render_widget(Clear, rect);
    let mut formats: Vec<Span> = vec![Span::styled("Format  ", theme.muted())];
    for f in ReportFormat::ALL {
        let style = if f == d.format {
            theme.tab_active()
        } else {
            theme.muted()
        };
        formats.push(Span::styled(format!(" {} ", f.label()), style));
        formats.push(Span::raw(" "));
    }
    let lines = vec![
        Line::from(formats),
        Line::raw(""),
        Line::from(vec![
            Span::styled("File    ", theme.muted()),
            Span::raw(printable(&d.path)),
            Span::styled("█", theme.key()),
        ]),
        Line::raw(""),
        Line::from(vec![
            Span::styled(" Enter ", theme.key()),
            Span::raw("write   "),
            Span::styled(" Tab ", theme.key()),
            Span::raw("format   "),
            Span::styled(" Esc ", theme.key()),
            Span::raw("cancel"),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .border_style(theme.border(true))
                .title(Span::styled(" Export the audit report ", theme.title()))
                .style(theme.base()),
        ),
        rect,
    );
}
