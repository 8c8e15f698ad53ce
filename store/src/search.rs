//! Full-text search over titles, excerpts and bodies, per tenant. SQLite uses an FTS5 table
//! kept in step inside each command's transaction; PostgreSQL uses a GIN expression index.

use crate::rows::{parse, sql_window};
use crate::writes::Writes;
use crate::{Backend, Store, StoreError, backend_of, stmt};
use rustok_domain::content::Translation;
use rustok_domain::read::SearchHit;
use rustok_domain::{Locale, NodeId, TenantId};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

/// Keeps the search index of one translation in step (inside the command's transaction).
pub(crate) async fn index_translation(
    w: &mut Writes<'_>,
    tenant_id: TenantId,
    node_id: NodeId,
    t: &Translation,
) -> Result<(), StoreError> {
    let c = w.txn();
    if backend_of(c) != Backend::Sqlite {
        return Ok(()); // the PostgreSQL index is an expression index on the table itself
    }
    let node = node_id.to_string();
    let what = || format!("search entry of node {node_id}");
    w.write(
        stmt(
            backend_of(c),
            "DELETE FROM node_search WHERE node_id = $1 AND locale = $2",
            vec![node.clone().into(), t.locale.as_str().into()],
        ),
        what,
    )
    .await?;
    w.write(
        stmt(
            backend_of(c),
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
        ),
        what,
    )
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

/// Turns what a person typed into a PostgreSQL `tsquery` text for `to_tsquery('simple', …)`:
/// as on SQLite, every word must match and the last one as a prefix (`:*`). A word is cut at
/// every character that is not a letter or digit, so no tsquery operator (`& | ! ( ) : *`
/// or a quote) can be injected.
fn pg_tsquery(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("{w}:*")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" & "),
    )
}

impl Store {
    /// Searches a tenant's nodes; best matches first. One query per search: the hit's title,
    /// slug, kind and status come from a join on the (at most `limit`) best matches, so the
    /// cost is the full-text query's plus `limit` primary-key lookups.
    pub async fn search_nodes(
        &self,
        tenant_id: TenantId,
        query: &str,
        locale: Option<&Locale>,
        limit: u64,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let limit = sql_window(if limit == 0 { 50 } else { limit }) as i64;
        let rows = match self.backend {
            Backend::Sqlite => {
                let Some(q) = fts5_query(query) else {
                    return Ok(Vec::new());
                };
                let mut values: Vec<Value> = vec![
                    q.into(),
                    tenant_id.to_string().into(),
                    limit.into(),
                    tenant_id.as_uuid().into(),
                ];
                let locale_clause = match locale {
                    Some(l) => {
                        values.push(l.as_str().into());
                        "AND locale = $5"
                    }
                    None => "",
                };
                // The FTS table keeps ids as text; nodes and translations as 16-byte blobs.
                // The inner query is exactly the plain FTS query (best `limit` matches, in
                // rank order); the joins only look up those rows by primary key. CROSS JOIN
                // keeps the matches as the outer loop, so the rows come out in the inner
                // query's order (checked by `content_flow::sqlite_search_hits_come_in_rank_order`).
                // No `ORDER BY rank` outside: selecting `rank` as a column of the inner query
                // cost ~0.9 ms on 100,000 nodes, 10 % of the whole search.
                let sql = format!(
                    "SELECT h.node_id AS node_id, h.locale AS locale, h.snip AS snip,
                            t.title AS title, t.slug AS slug, n.kind AS kind, n.status AS status
                     FROM (SELECT node_id, locale,
                                  snippet(node_search, -1, '', '', '…', 12) AS snip
                           FROM node_search
                           WHERE node_search MATCH $1 AND tenant_id = $2 {locale_clause}
                           ORDER BY rank LIMIT $3) AS h
                     CROSS JOIN nodes n ON n.id = unhex(replace(h.node_id, '-', '')) AND n.tenant_id = $4
                     CROSS JOIN node_translations t ON t.node_id = n.id AND t.locale = h.locale"
                );
                self.db.query_all_raw(self.stmt(&sql, values)).await?
            }
            Backend::Postgres => {
                let Some(q) = pg_tsquery(query) else {
                    return Ok(Vec::new());
                };
                let text = "t.title || ' ' || coalesce(t.excerpt, '') || ' ' || t.body";
                let doc = format!("to_tsvector('simple', {text})");
                let mut values: Vec<Value> =
                    vec![tenant_id.as_uuid().into(), q.into(), limit.into()];
                let locale_clause = match locale {
                    Some(l) => {
                        values.push(l.as_str().into());
                        "AND t.locale = $4"
                    }
                    None => "",
                };
                // The snippet (`ts_headline`, about a dozen words around the match) is made in
                // the outer query, for the at most `limit` rows kept only.
                let sql = format!(
                    "SELECT h.node_id::text AS node_id, h.locale AS locale,
                            ts_headline('simple', {text}, to_tsquery('simple', $2),
                                        'StartSel=\"\", StopSel=\"\", MaxWords=14, MinWords=6, ShortWord=1, FragmentDelimiter=…, MaxFragments=1') AS snip,
                            t.title AS title, t.slug AS slug, h.kind AS kind, h.status AS status
                     FROM (SELECT t.node_id, t.locale, n.kind, n.status,
                                  ts_rank({doc}, to_tsquery('simple', $2)) AS rank
                           FROM node_translations t
                           JOIN nodes n ON n.id = t.node_id AND n.tenant_id = t.tenant_id
                           WHERE t.tenant_id = $1 AND {doc} @@ to_tsquery('simple', $2) {locale_clause}
                           ORDER BY rank DESC LIMIT $3) AS h
                     JOIN node_translations t ON t.node_id = h.node_id AND t.locale = h.locale
                     ORDER BY h.rank DESC"
                );
                self.db.query_all_raw(self.stmt(&sql, values)).await?
            }
        };
        rows.into_iter()
            .map(|r| {
                let id: String = r.try_get("", "node_id")?;
                let locale: String = r.try_get("", "locale")?;
                let kind: String = r.try_get("", "kind")?;
                let status: String = r.try_get("", "status")?;
                Ok(SearchHit {
                    node_id: NodeId::from_uuid(parse::<Uuid>("search node id", &id)?),
                    locale: parse("locale", &locale)?,
                    title: r.try_get("", "title")?,
                    slug: r.try_get("", "slug")?,
                    kind: parse("node kind", &kind)?,
                    status: parse("node status", &status)?,
                    snippet: r.try_get::<Option<String>>("", "snip")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fts5_query;

    #[test]
    fn pg_queries_keep_only_words() {
        use super::pg_tsquery;
        assert_eq!(pg_tsquery("Колд"), Some("колд:*".into()));
        assert_eq!(
            pg_tsquery("filtered water"),
            Some("filtered & water:*".into())
        );
        assert_eq!(
            pg_tsquery("a' | !b:* (c)"),
            Some("a & b & c:*".into()),
            "operators are separators"
        );
        assert_eq!(pg_tsquery("  * ( "), None);
    }

    #[test]
    fn fts_queries_are_quoted() {
        assert_eq!(fts5_query("rust"), Some("\"rust\"*".into()));
        assert_eq!(fts5_query("Rust  lang"), Some("\"Rust\" \"lang\"*".into()));
        assert_eq!(fts5_query("a\" OR b"), Some("\"a\" \"OR\" \"b\"*".into()));
        assert_eq!(fts5_query("  * ( "), None);
    }
}
