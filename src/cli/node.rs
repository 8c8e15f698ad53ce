use super::output::{cell, emit, opt_time, table, time};
use super::{CliError, Ctx};
use clap::{Args, Subcommand};
use rustok_domain::command::NodeTransition;
use rustok_domain::content::schedule::parse_when;
use rustok_domain::content::{
    BodyFormat, Node, NodeAction, NodeDraft, NodeKind, NodePatch, NodeStatus, Revision,
    TranslationInput,
};
use rustok_domain::text::printable;
use rustok_domain::{Command, DomainError, Locale, NodeId, Tenant};
use rustok_store::{NodeFilter, Outcome};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BodyArgs {
    /// Body text
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Read the body from a UTF-8 file (`/dev/stdin` for a pipe), at most 4,000,000 bytes
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
}

impl BodyArgs {
    fn read(&self) -> Result<Option<String>, CliError> {
        if let Some(b) = &self.body {
            return Ok(Some(b.clone()));
        }
        let Some(path) = &self.body_file else {
            return Ok(None);
        };
        Ok(Some(crate::input::read_text(
            path,
            crate::input::MAX_BODY_BYTES as u64,
            "body file",
        )?))
    }
}

#[derive(Debug, Subcommand)]
pub enum NodeCmd {
    /// Create a draft
    Create {
        /// post, page, article, custom, block, menu, menu_item, blog_post, comment, category, tag
        #[arg(long)]
        kind: String,
        #[arg(long)]
        title: String,
        /// Derived from the title when absent
        #[arg(long)]
        slug: Option<String>,
        /// Defaults to the tenant's default locale
        #[arg(long)]
        locale: Option<String>,
        #[command(flatten)]
        body: BodyArgs,
        /// markdown, html or plain
        #[arg(long, default_value = "markdown")]
        format: String,
        #[arg(long)]
        excerpt: Option<String>,
    },
    /// Edit one translation of a node
    Update {
        id: String,
        /// Which translation (defaults to the node's source locale)
        #[arg(long)]
        locale: Option<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        slug: Option<String>,
        /// An empty string clears the excerpt
        #[arg(long)]
        excerpt: Option<String>,
        #[command(flatten)]
        body: BodyArgs,
        #[arg(long)]
        format: Option<String>,
        /// Refuse the edit unless the node is at this version
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
        expect_version: Option<i64>,
    },
    /// Add or replace a translation
    Translate {
        id: String,
        #[arg(long)]
        locale: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        excerpt: Option<String>,
        #[command(flatten)]
        body: BodyArgs,
        #[arg(long)]
        format: Option<String>,
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
        expect_version: Option<i64>,
    },
    /// draft → published
    Publish(StatusArgs),
    /// published → draft
    Unpublish(StatusArgs),
    /// published → archived
    Archive(StatusArgs),
    /// archived → draft
    Restore(StatusArgs),
    /// Show a node with all its translations
    Show { id: String },
    /// List nodes, most recently updated first
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        locale: Option<String>,
        /// Rows to show, 1 to 1,000,000
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=crate::input::MAX_OFFSET))]
        offset: u64,
    },
    /// Schedule a publication and/or an unpublication. TIME is RFC 3339
    /// (2026-12-24T18:00:00Z, 2026-12-24T19:00:00+01:00) or relative: +N with s, m, h, d or w
    /// (+10m, +1h30m, +2d). A time not in the future is refused. Each replaces the pending one
    /// of its kind; a running console, `serve` or `outbox relay` executes it when due, as you.
    #[command(
        after_help = "Examples:\n  rustok node schedule ID --publish-at +10m\n  rustok node schedule ID --publish-at 2026-12-24T18:00:00Z --unpublish-at 2027-01-07T00:00:00Z"
    )]
    #[command(group(
        clap::ArgGroup::new("when")
            .args(["publish_at", "unpublish_at"])
            .required(true)
            .multiple(true)
    ))]
    Schedule {
        id: String,
        #[arg(long, value_name = "TIME")]
        publish_at: Option<String>,
        #[arg(long, value_name = "TIME")]
        unpublish_at: Option<String>,
    },
    /// Cancel every pending schedule of a node
    Unschedule { id: String },
    /// What goes live or comes down when: the pending schedules, soonest first
    Agenda {
        /// Rows to show, 1 to 1,000
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1000))]
        limit: u64,
    },
    /// Full-text search over titles, excerpts and bodies
    Search {
        /// Words to find (not blank)
        #[arg(value_parser = search_text)]
        query: String,
        #[arg(long)]
        locale: Option<String>,
        /// Matches to show, 1 to 1,000,000
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
    },
    /// A node's revisions, newest first: version, time, who, what, the locales changed
    History { id: String },
    /// What changed between two revisions: a unified diff of each changed field
    Diff {
        id: String,
        /// The older version
        #[arg(long, value_name = "V1", value_parser = clap::value_parser!(i64).range(1..))]
        from: i64,
        /// The newer version
        #[arg(long, value_name = "V2", value_parser = clap::value_parser!(i64).range(1..))]
        to: i64,
        /// Only this locale's fields
        #[arg(long)]
        locale: Option<String>,
    },
    /// Make version V's content the current content, as a new version (status unchanged)
    Revert {
        id: String,
        #[arg(long, value_name = "V", value_parser = clap::value_parser!(i64).range(1..))]
        to: i64,
        /// Refuse unless the node is at this version
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
        expect_version: Option<i64>,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    id: String,
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    expect_version: Option<i64>,
}

/// A search needs a word: a blank query is a usage error (exit 2), not "no matches".
fn search_text(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("the search text is blank: give at least one word to find".into())
    } else {
        Ok(s.to_string())
    }
}

fn opt<T: std::str::FromStr<Err = DomainError>>(s: &Option<String>) -> Result<Option<T>, CliError> {
    Ok(s.as_deref().map(str::parse).transpose()?)
}

pub async fn run(ctx: &Ctx, cmd: &NodeCmd) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    let command = match cmd {
        NodeCmd::Create {
            kind,
            title,
            slug,
            locale,
            body,
            format,
            excerpt,
        } => Command::CreateNode(NodeDraft {
            id: NodeId::new_v7(),
            kind: kind.parse::<NodeKind>()?,
            locale: opt::<Locale>(locale)?.unwrap_or_else(|| tenant.default_locale.clone()),
            title: title.clone(),
            slug: slug.clone(),
            excerpt: excerpt.clone(),
            body: body.read()?.unwrap_or_default(),
            format: format.parse::<BodyFormat>()?,
        }),
        NodeCmd::Update {
            id,
            locale,
            title,
            slug,
            excerpt,
            body,
            format,
            expect_version,
        } => Command::UpdateNode {
            id: ctx.node_id(&tenant, id).await?,
            patch: NodePatch {
                locale: opt(locale)?,
                title: title.clone(),
                slug: slug.clone(),
                excerpt: excerpt.clone(),
                body: body.read()?,
                format: opt(format)?,
            },
            expected_version: *expect_version,
        },
        NodeCmd::Translate {
            id,
            locale,
            title,
            slug,
            excerpt,
            body,
            format,
            expect_version,
        } => Command::TranslateNode {
            id: ctx.node_id(&tenant, id).await?,
            input: TranslationInput {
                locale: locale.parse()?,
                title: title.clone(),
                slug: slug.clone(),
                excerpt: excerpt.clone(),
                body: body.read()?,
                format: opt(format)?,
            },
            expected_version: *expect_version,
        },
        NodeCmd::Publish(a) => status(ctx, &tenant, a, NodeAction::Publish).await?,
        NodeCmd::Unpublish(a) => status(ctx, &tenant, a, NodeAction::Unpublish).await?,
        NodeCmd::Archive(a) => status(ctx, &tenant, a, NodeAction::Archive).await?,
        NodeCmd::Restore(a) => status(ctx, &tenant, a, NodeAction::Restore).await?,
        NodeCmd::Show { id } => {
            let id = ctx.node_id(&tenant, id).await?;
            let node = ctx
                .reads
                .node(tenant.id, id)
                .await?
                .ok_or_else(|| DomainError::not_found("node", id))?;
            emit(ctx.json, &node, || describe(&node));
            return Ok(());
        }
        NodeCmd::List {
            status,
            kind,
            locale,
            limit,
            offset,
        } => {
            let filter = NodeFilter {
                status: opt::<NodeStatus>(status)?,
                kind: opt::<NodeKind>(kind)?,
                locale: opt::<Locale>(locale)?,
                offset: *offset,
                limit: (*limit).max(1),
            };
            let page = ctx.reads.nodes(tenant.id, &filter).await?;
            emit(ctx.json, &page.rows, || {
                let rows: Vec<Vec<String>> = page
                    .rows
                    .iter()
                    .map(|n| {
                        vec![
                            n.id.to_string(),
                            n.status.to_string(),
                            n.kind.to_string(),
                            n.locales
                                .iter()
                                .map(|l| l.to_string())
                                .collect::<Vec<_>>()
                                .join(","),
                            format!("v{}", n.version),
                            time(&n.updated_at),
                            cell(&n.title, 60),
                        ]
                    })
                    .collect();
                let shown = page.rows.len() as u64;
                let mut s = table(
                    &["ID", "STATUS", "KIND", "LOCALES", "VER", "UPDATED", "TITLE"],
                    &rows,
                );
                if shown < page.total {
                    s.push_str(&format!(
                        "\n({} of {} shown; use --offset/--limit for more)",
                        shown, page.total
                    ));
                }
                s
            });
            return Ok(());
        }
        NodeCmd::Schedule {
            id,
            publish_at,
            unpublish_at,
        } => {
            let now = chrono::Utc::now();
            let when = |t: &Option<String>| -> Result<_, CliError> {
                Ok(t.as_deref().map(|t| parse_when(t, now)).transpose()?)
            };
            Command::ScheduleNode {
                id: ctx.node_id(&tenant, id).await?,
                publish_at: when(publish_at)?,
                unpublish_at: when(unpublish_at)?,
            }
        }
        NodeCmd::Unschedule { id } => Command::UnscheduleNode {
            id: ctx.node_id(&tenant, id).await?,
        },
        NodeCmd::Agenda { limit } => {
            let agenda = ctx.reads.agenda(tenant.id, *limit).await?;
            emit(ctx.json, &agenda, || {
                if agenda.is_empty() {
                    return "nothing scheduled".into();
                }
                let rows: Vec<Vec<String>> = agenda
                    .iter()
                    .map(|e| {
                        vec![
                            time(&e.schedule.at),
                            e.schedule.action.agenda_words().to_string(),
                            e.schedule.node_id.to_string(),
                            e.status.to_string(),
                            cell(&e.schedule.by, 30),
                            cell(&e.title, 50),
                        ]
                    })
                    .collect();
                table(&["WHEN", "WHAT", "ID", "STATUS", "BY", "TITLE"], &rows)
            });
            return Ok(());
        }
        NodeCmd::Search {
            query,
            locale,
            limit,
        } => {
            let locale = opt::<Locale>(locale)?;
            let hits = ctx
                .reads
                .search(tenant.id, query, locale.as_ref(), *limit)
                .await?;
            emit(ctx.json, &hits, || {
                let rows: Vec<Vec<String>> = hits
                    .iter()
                    .map(|h| {
                        vec![
                            h.node_id.to_string(),
                            h.locale.to_string(),
                            h.status.to_string(),
                            cell(&h.title, 50),
                            cell(h.snippet.as_deref().unwrap_or(""), 60),
                        ]
                    })
                    .collect();
                if rows.is_empty() {
                    "no matches".into()
                } else {
                    table(&["ID", "LOCALE", "STATUS", "TITLE", "MATCH"], &rows)
                }
            });
            return Ok(());
        }
        NodeCmd::History { id } => {
            let id = ctx.node_id(&tenant, id).await?;
            let revisions = ctx.reads.node_history(tenant.id, id).await?;
            emit(ctx.json, &revisions, || history_table(&revisions));
            return Ok(());
        }
        NodeCmd::Diff {
            id,
            from,
            to,
            locale,
        } => {
            let id = ctx.node_id(&tenant, id).await?;
            let locale = opt::<Locale>(locale)?;
            let diff = ctx
                .reads
                .node_diff(tenant.id, id, *from, *to, locale.as_ref())
                .await?;
            emit(ctx.json, &diff, || {
                if diff.fields.is_empty() {
                    format!("no differences between version {from} and version {to}")
                } else {
                    printable_lines(diff.unified().trim_end())
                }
            });
            return Ok(());
        }
        NodeCmd::Revert {
            id,
            to,
            expect_version,
        } => Command::RevertNode {
            id: ctx.node_id(&tenant, id).await?,
            to: *to,
            expected_version: *expect_version,
        },
    };
    let name = command.name();
    let node_id = command.node_id();
    let applied = ctx.execute(&tenant, command).await?;
    if let Outcome::Schedule(schedules) = &applied.outcome {
        let json = serde_json::json!({ "node_id": node_id, "schedules": schedules });
        emit(ctx.json, &json, || {
            if schedules.is_empty() {
                return format!(
                    "unschedule node: {} has nothing scheduled now",
                    node_id.map(|i| i.to_string()).unwrap_or_default()
                );
            }
            let mut s = format!(
                "schedule node: {}",
                node_id.map(|i| i.to_string()).unwrap_or_default()
            );
            for e in schedules {
                s.push_str(&format!(
                    "\n  {} {} (by {})",
                    e.action.agenda_words(),
                    time(&e.at),
                    cell(&e.by, 30)
                ));
            }
            s
        });
    }
    if let Outcome::Node(node) = applied.outcome {
        emit(ctx.json, &node, || {
            format!(
                "{}: {} {} is {} at version {}",
                name.replace('_', " "),
                node.kind,
                node.id,
                node.status,
                node.version
            )
        });
    }
    Ok(())
}

async fn status(
    ctx: &Ctx,
    tenant: &Tenant,
    a: &StatusArgs,
    action: NodeAction,
) -> Result<Command, CliError> {
    Ok(Command::NodeStatus(NodeTransition {
        id: ctx.node_id(tenant, &a.id).await?,
        action,
        expected_version: a.expect_version,
    }))
}

/// Human-readable detail of a node, every user string made terminal-safe.
fn describe(n: &Node) -> String {
    let mut s = format!(
        "{} {} ({}, version {})\nauthor {}, source locale {}\ncreated {}  updated {}  published {}  archived {}\n",
        n.kind,
        n.id,
        n.status,
        n.version,
        cell(&n.author, 60),
        n.source_locale,
        time(&n.created_at),
        time(&n.updated_at),
        opt_time(&n.published_at),
        opt_time(&n.archived_at),
    );
    for t in &n.translations {
        s.push_str(&format!(
            "\n[{}] {}\n  slug {}  format {}  {} chars\n",
            t.locale,
            cell(&t.title, 255),
            t.slug,
            t.format,
            t.body.chars().count()
        ));
        if let Some(e) = &t.excerpt {
            s.push_str(&format!("  excerpt: {}\n", cell(e, 200)));
        }
        for line in t.body.lines().take(20) {
            s.push_str("  | ");
            s.push_str(&printable(line));
            s.push('\n');
        }
        if t.body.lines().count() > 20 {
            s.push_str("  | …\n");
        }
    }
    s
}

/// `node history` as a table, newest first.
fn history_table(revisions: &[Revision]) -> String {
    let rows: Vec<Vec<String>> = revisions
        .iter()
        .map(|r| {
            let what = match r.reverted_from {
                Some(v) => format!("{} (to v{v})", r.command),
                None => r.command.clone(),
            };
            vec![
                format!("v{}", r.version),
                time(&r.at),
                cell(&r.actor, 40),
                what,
                r.status.to_string(),
                r.locales
                    .iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ]
        })
        .collect();
    table(&["VER", "WHEN", "WHO", "WHAT", "STATUS", "LOCALES"], &rows)
}

/// Text made terminal-safe line by line (user text in a diff never drives the terminal).
fn printable_lines(text: &str) -> String {
    text.lines().map(printable).collect::<Vec<_>>().join("\n")
}
