//! `rustok seed --demo [--scale N]`: demo content and a small shop through the action queue,
//! or, with `--scale`, N nodes and N orders with their events through the bulk path.

use super::output::emit;
use super::{CliError, Ctx};
use std::io::{IsTerminal, Write};
use std::time::Instant;

pub async fn run(ctx: &Ctx, demo: bool, scale: Option<u64>) -> Result<(), CliError> {
    if !demo {
        return Err(CliError::Usage(
            "nothing to seed: pass --demo (and optionally --scale N)".into(),
        ));
    }
    let tenant = ctx.tenant().await?;
    let skus = crate::demo::ensure_products(&ctx.queue, &ctx.store, &tenant, &ctx.actor).await?;
    let Some(n) = scale else {
        let nodes = crate::demo::seed(&ctx.queue, &tenant, &ctx.actor).await?;
        let orders = crate::demo::seed_orders(&ctx.queue, &tenant, &ctx.actor).await?;
        let summary =
            serde_json::json!({ "nodes": nodes, "orders": orders, "products": skus.len() });
        emit(ctx.json, &summary, || {
            format!(
                "seeded {nodes} nodes, {} products and {orders} orders in tenant {}",
                skus.len(),
                tenant.slug
            )
        });
        return Ok(());
    };
    // The bulk path writes without going through each command's permission check, so it is
    // allowed only to those who may do everything it does.
    if ctx.actor.read_only {
        return Err(CliError::Input(
            "read-only session: seeding is disabled".into(),
        ));
    }
    let staff = ctx.store.staff_by_handle(&ctx.actor.handle).await?;
    match staff.as_ref().map(|s| (s.active, s.role)) {
        Some((true, rustok_domain::rbac::Role::Owner | rustok_domain::rbac::Role::Admin)) => {}
        _ => {
            let who = staff.map_or_else(
                || "an unknown staff member".to_string(),
                |s| format!("{:?}", s.role).to_lowercase(),
            );
            return Err(rustok_domain::DomainError::PermissionDenied {
                reason: format!(
                    "{} ({who}) cannot seed data in bulk (owners and admins can)",
                    ctx.actor.handle
                ),
            }
            .into());
        }
    }
    let bar = std::io::stderr().is_terminal() && !ctx.json;
    let started = Instant::now();
    let report = ctx
        .store
        .seed_bulk(tenant.id, n, &skus, |done, total| {
            if bar {
                let width = 30;
                let filled = (done * width / total.max(1)) as usize;
                let rate = done as f64 * 2.0 / started.elapsed().as_secs_f64().max(0.001);
                eprint!(
                    "\r[{}{}] {:>3}%  {done}/{total}  {rate:.0} events/s ",
                    "#".repeat(filled),
                    " ".repeat(width as usize - filled),
                    done * 100 / total.max(1)
                );
                let _ = std::io::stderr().flush();
            }
        })
        .await?;
    if bar {
        eprintln!();
    }
    let secs = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "nodes": report.nodes,
        "orders": report.orders,
        "events": report.events,
        "rows": report.rows,
        "seconds": (secs * 1000.0).round() / 1000.0,
        "rows_per_second": (report.rows as f64 / secs.max(0.001)).round(),
        "events_per_second": (report.events as f64 / secs.max(0.001)).round(),
    });
    emit(ctx.json, &summary, || {
        format!(
            "seeded {} nodes, {} orders and {} events ({} rows) in {secs:.1} s: {:.0} rows/s, {:.0} events/s",
            report.nodes,
            report.orders,
            report.events,
            report.rows,
            report.rows as f64 / secs.max(0.001),
            report.events as f64 / secs.max(0.001)
        )
    });
    Ok(())
}
