//! Full-text search over titles, excerpts and bodies, per tenant. SQLite uses an FTS5 table
//! kept in step inside each command's transaction; PostgreSQL uses a GIN expression index.

use crate::entity::{node, node_translation};
use crate::outbox::backend_stmt;
use crate::repo::parse;
use crate::{Backend, Store, StoreError, backend_of};
use rustok_domain::content::Translation;
use rustok_domain::read::SearchHit;
use rustok_domain::{Locale, NodeId, TenantId};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value};
use uuid::Uuid;

/// Keeps the search index of one translation in step (inside the command's transaction).
pub(crate) async fn index_translation(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    node_id: NodeId,
    t: &Translation,
) -> Result<(), StoreError> {
    if backend_of(c) != Backend::Sqlite {
        return Ok(()); // the PostgreSQL index is an expression index on the table itself
    }
    let node = node_id.to_string();
    c.execute_raw(backend_stmt(
        c,
        "DELETE FROM node_search WHERE node_id = $1 AND locale = $2",
        vec![node.clone().into(), t.locale.as_str().into()],
    ))
    .await?;
    c.execute_raw(backend_stmt(
        c,
        "INSERT INTO node_search (title, excerpt, body, tenant_id, node_id, locale)
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            t.title.clone().into(),
            t.excerpt.clone().unwrap_or_default().into(),
            t.body.clone().into(),
            tenant_id.to_string().into(),
            node.into(),
            t.locale.as_str().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Turns what a person typed into an FTS5 query: every word must match, the last one as a
/// prefix (so results follow typing), and no FTS5 operator can be injected.
fn fts5_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split_whitespace()
        .map(|w| w.replace('"', ""))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("\"{w}\"*")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl Store {
    /// Searches a tenant's nodes; best matches first.
    pub async fn search_nodes(
        &self,
        tenant_id: TenantId,
        query: &str,
        locale: Option<&Locale>,
        limit: u64,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let limit = i64::try_from(if limit == 0 { 50 } else { limit }).unwrap_or(50);
        let mut hits: Vec<(Uuid, String, Option<String>)> = Vec::new();
        match self.backend {
            Backend::Sqlite => {
                let Some(q) = fts5_query(query) else {
                    return Ok(Vec::new());
                };
                let mut values: Vec<Value> = vec![q.into(), tenant_id.to_string().into()];
                let locale_clause = match locale {
                    Some(l) => {
                        values.push(l.as_str().into());
                        "AND locale = $4"
                    }
                    None => "",
                };
                values.insert(2, limit.into());
                let sql = format!(
                    "SELECT node_id, locale, snippet(node_search, -1, '', '', '…', 12) AS snip
                     FROM node_search WHERE node_search MATCH $1 AND tenant_id = $2 {locale_clause}
                     ORDER BY rank LIMIT $3"
                );
                for r in self.db.query_all_raw(self.stmt(&sql, values)).await? {
                    let id: String = r.try_get("", "node_id")?;
                    hits.push((
                        parse::<Uuid>("search node id", &id)?,
                        r.try_get("", "locale")?,
                        r.try_get::<Option<String>>("", "snip")?,
                    ));
                }
            }
            Backend::Postgres => {
                if query.trim().is_empty() {
                    return Ok(Vec::new());
                }
                let doc =
                    "to_tsvector('simple', title || ' ' || coalesce(excerpt, '') || ' ' || body)";
                let mut values: Vec<Value> = vec![
                    tenant_id.as_uuid().into(),
                    query.to_string().into(),
                    limit.into(),
                ];
                let locale_clause = match locale {
                    Some(l) => {
                        values.push(l.as_str().into());
                        "AND locale = $4"
                    }
                    None => "",
                };
                let sql = format!(
                    "SELECT node_id, locale FROM node_translations
                     WHERE tenant_id = $1 AND {doc} @@ plainto_tsquery('simple', $2) {locale_clause}
                     ORDER BY ts_rank({doc}, plainto_tsquery('simple', $2)) DESC LIMIT $3"
                );
                for r in self.db.query_all_raw(self.stmt(&sql, values)).await? {
                    hits.push((r.try_get("", "node_id")?, r.try_get("", "locale")?, None));
                }
            }
        }
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = hits.iter().map(|h| h.0).collect();
        let nodes = node::Entity::find()
            .filter(node::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(node::Column::Id.is_in(ids.clone()))
            .all(&self.db)
            .await?;
        let translations: Vec<(Uuid, String, String, String)> = {
            use sea_orm::QuerySelect;
            node_translation::Entity::find()
                .select_only()
                .column(node_translation::Column::NodeId)
                .column(node_translation::Column::Locale)
                .column(node_translation::Column::Title)
                .column(node_translation::Column::Slug)
                .filter(node_translation::Column::NodeId.is_in(ids))
                .into_tuple()
                .all(&self.db)
                .await?
        };
        let mut out = Vec::with_capacity(hits.len());
        for (id, locale, snippet) in hits {
            let Some(n) = nodes.iter().find(|n| n.id == id) else {
                continue;
            };
            let Some((_, _, title, slug)) = translations
                .iter()
                .find(|(nid, l, _, _)| *nid == id && *l == locale)
            else {
                continue;
            };
            out.push(SearchHit {
                node_id: NodeId::from_uuid(id),
                locale: parse("locale", &locale)?,
                title: title.clone(),
                slug: slug.clone(),
                kind: parse("node kind", &n.kind)?,
                status: parse("node status", &n.status)?,
                snippet,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::fts5_query;

    #[test]
    fn fts_queries_are_quoted() {
        assert_eq!(fts5_query("rust"), Some("\"rust\"*".into()));
        assert_eq!(fts5_query("Rust  lang"), Some("\"Rust\" \"lang\"*".into()));
        assert_eq!(fts5_query("a\" OR b"), Some("\"a\" \"OR\" \"b\"*".into()));
        assert_eq!(fts5_query("  * ( "), None);
    }
}
