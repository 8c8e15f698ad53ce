//! `rustok seed --demo [--scale N]`: demo content and a small shop through the action queue,
//! or, with `--scale`, N nodes and N orders with their events through the bulk path.

use super::output::emit;
use super::{CliError, Ctx};
use rustok_domain::{Tenant, rbac};
use std::io::{IsTerminal, Write};
use std::time::Instant;

pub async fn run(ctx: &Ctx, demo: bool, scale: Option<u64>) -> Result<(), CliError> {
    if !demo {
        return Err(CliError::Usage(
            "nothing to seed: pass --demo (and optionally --scale N)".into(),
        ));
    }
    let tenant = ctx.tenant().await?;
    // Seeding writes many rows at once (in bulk, without each command's own check), so the
    // permission is checked before anything is written, and the run — or its refusal — is
    // one audit-log row.
    ctx.audited(
        tenant.id,
        "seed",
        rbac::SEED,
        "seed demo data",
        async || seed(ctx, &tenant, scale).await,
    )
    .await
}

async fn seed(ctx: &Ctx, tenant: &Tenant, scale: Option<u64>) -> Result<((), String), CliError> {
    let skus =
        crate::runtime::demo::ensure_products(&ctx.queue, &ctx.reads, tenant, &ctx.actor).await?;
    let Some(n) = scale else {
        let nodes = crate::runtime::demo::seed(&ctx.queue, tenant, &ctx.actor).await?;
        let orders = crate::runtime::demo::seed_orders(&ctx.queue, tenant, &ctx.actor).await?;
        let summary =
            serde_json::json!({ "nodes": nodes, "orders": orders, "products": skus.len() });
        let line = format!(
            "seeded {nodes} nodes, {} products and {orders} orders in tenant {}",
            skus.len(),
            tenant.slug
        );
        emit(ctx.json, &summary, || line.clone());
        return Ok(((), line));
    };
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
    let line = format!(
        "seeded {} nodes, {} orders and {} events ({} rows) in {secs:.1} s: {:.0} rows/s, {:.0} events/s",
        report.nodes,
        report.orders,
        report.events,
        report.rows,
        report.rows as f64 / secs.max(0.001),
        report.events as f64 / secs.max(0.001)
    );
    emit(ctx.json, &summary, || line.clone());
    Ok(((), line))
}
