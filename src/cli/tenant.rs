use super::output::{cell, emit, table, time};
use super::{CliError, Ctx};
use clap::Subcommand;
use rustok_domain::{Command, CommandEnvelope, Locale, TenantId};
use rustok_store::Outcome;

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Create a tenant
    Create {
        /// Lowercase letters, digits and '-', up to 63 characters
        slug: String,
        #[arg(long)]
        name: String,
        /// Default locale of the tenant's content
        #[arg(long, default_value = "en")]
        locale: String,
    },
    /// List tenants
    List,
}

pub async fn run(ctx: &Ctx, cmd: &TenantCmd) -> Result<(), CliError> {
    match cmd {
        TenantCmd::Create { slug, name, locale } => {
            let locale: Locale = locale.parse()?;
            let id = TenantId::new_v7();
            let command = Command::CreateTenant {
                id,
                slug: slug.clone(),
                name: name.clone(),
                default_locale: locale,
            };
            let applied = ctx
                .queue
                .execute(CommandEnvelope::new(id, ctx.actor.clone(), command))
                .await?;
            if let Outcome::Tenant(t) = applied.outcome {
                emit(ctx.json, &t, || {
                    format!(
                        "created tenant {} ({}) {}",
                        cell(&t.slug, 63),
                        cell(&t.name, 80),
                        t.id
                    )
                });
            }
            Ok(())
        }
        TenantCmd::List => {
            ctx.tenant().await.ok(); // make sure the default tenant exists on first use
            let tenants = ctx.reads.tenants().await?;
            emit(ctx.json, &tenants, || {
                let rows: Vec<Vec<String>> = tenants
                    .iter()
                    .map(|t| {
                        vec![
                            cell(&t.slug, 63),
                            cell(&t.name, 40),
                            t.default_locale.to_string(),
                            if t.is_active { "active" } else { "inactive" }.into(),
                            time(&t.created_at),
                            t.id.to_string(),
                        ]
                    })
                    .collect();
                table(&["SLUG", "NAME", "LOCALE", "STATE", "CREATED", "ID"], &rows)
            });
            Ok(())
        }
    }
}
