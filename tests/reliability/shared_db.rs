//! Issue 8: several processes on one database. Each test opens two independent `Store`
//! handles (two pools, as two console processes would) on SQLite and PostgreSQL.

use crate::support;

use rustok_domain::content::NodePatch;
use rustok_domain::{Actor, Command, CommandEnvelope, DomainError};
use rustok_store::{EventFilter, Outcome, Store, StoreError};
use support::TestDb;
use support::fixtures::{create_tenant, draft};

async fn two_handles(db: &TestDb) -> (Store, Store) {
    (
        Store::connect(&db.url).await.expect("connect A"),
        Store::connect(&db.url).await.expect("connect B"),
    )
}

async fn new_tenant(store: &Store, slug: &str) -> rustok_domain::TenantId {
    let cmd = create_tenant(slug);
    let Command::CreateTenant { id, .. } = &cmd else {
        unreachable!("create_tenant builds a CreateTenant")
    };
    let id = *id;
    store
        .execute(
            &CommandEnvelope::new(id, Actor::new("tester"), cmd),
            chrono::Utc::now(),
        )
        .await
        .expect("tenant created");
    id
}

fn rename(
    tenant: rustok_domain::TenantId,
    id: rustok_domain::NodeId,
    title: &str,
    version: i64,
) -> CommandEnvelope {
    CommandEnvelope::new(
        tenant,
        Actor::new("tester"),
        Command::UpdateNode {
            id,
            patch: NodePatch {
                title: Some(title.into()),
                ..Default::default()
            },
            expected_version: Some(version),
        },
    )
}

/// Two consoles save the same node version: one wins, the other gets the version conflict
/// (the console's conflict dialog), and the winner's edit is what is stored.
async fn optimistic_locking_holds_across_processes(db: TestDb) {
    let (a, b) = two_handles(&db).await;
    let actor = Actor::new("tester");
    let tenant = new_tenant(&a, "shared").await;
    let d = draft("Original");
    let node_id = d.id;
    a.execute(
        &CommandEnvelope::new(tenant, actor.clone(), Command::CreateNode(d)),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    // Both consoles opened version 1.
    let seen_a = a.node(tenant, node_id).await.unwrap().unwrap();
    let seen_b = b.node(tenant, node_id).await.unwrap().unwrap();
    assert_eq!((seen_a.version, seen_b.version), (1, 1));

    // Saved at the same moment from both processes.
    let (save_a, save_b) = (
        rename(tenant, node_id, "From A", 1),
        rename(tenant, node_id, "From B", 1),
    );
    let (ra, rb) = tokio::join!(
        a.execute(&save_a, chrono::Utc::now()),
        b.execute(&save_b, chrono::Utc::now()),
    );
    let (winner, loser) = match (&ra, &rb) {
        (Ok(w), Err(l)) => (w, l),
        (Err(l), Ok(w)) => (w, l),
        other => panic!("exactly one save must win: {other:?}"),
    };
    assert!(
        matches!(
            loser,
            StoreError::Domain(DomainError::VersionConflict {
                expected: 1,
                actual: 2,
                ..
            })
        ),
        "{loser}"
    );
    let Outcome::Node(won) = &winner.outcome else {
        panic!("a node")
    };
    let stored = b.node(tenant, node_id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.translations[0].title, won.translations[0].title);
    let updates = a
        .list_events(&EventFilter {
            tenant_id: Some(tenant),
            aggregate_id: Some(node_id.as_uuid()),
            event_type: Some("node.updated".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(updates.len(), 1, "the refused save wrote no event");

    // The loser reloads (version 2) and saves again: nothing is lost.
    let title = if won.translations[0].title == "From A" {
        "From B"
    } else {
        "From A"
    };
    b.execute(&rename(tenant, node_id, title, 2), chrono::Utc::now())
        .await
        .unwrap();
    let stored = a.node(tenant, node_id).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.translations[0].title.as_str()),
        (3, title)
    );
}

/// A command retried under the same id (its first commit's answer was lost) is answered from
/// the command log: same outcome, nothing applied twice — also from another process.
async fn a_retried_command_is_applied_once(db: TestDb) {
    let (a, b) = two_handles(&db).await;
    let actor = Actor::new("tester");
    let tenant = new_tenant(&a, "retry").await;
    let env = CommandEnvelope::new(tenant, actor, Command::CreateNode(draft("Once")));
    let first = a.execute(&env, chrono::Utc::now()).await.unwrap();
    let again = b.execute(&env, chrono::Utc::now()).await.unwrap();
    assert_eq!(first, again, "the recorded outcome");
    assert_eq!(b.command_outcome(&env).await.unwrap(), Some(first.clone()));
    let events = a
        .list_events(&EventFilter {
            tenant_id: Some(tenant),
            event_type: Some("node.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "one node.created, not two");
    let other = CommandEnvelope::new(tenant, Actor::new("x"), Command::CreateNode(draft("New")));
    assert_eq!(a.command_outcome(&other).await.unwrap(), None);
}

macro_rules! both {
    ($($name:ident),+) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::TestDb::sqlite()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = super::TestDb::postgres().await else { return };
                super::$name(db).await;
            }
        }
    )+};
}

both!(
    optimistic_locking_holds_across_processes,
    a_retried_command_is_applied_once
);
