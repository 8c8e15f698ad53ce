//! Demo content for a fresh database, so a newcomer sees something real: articles, pages and
//! posts in several states, some translated.

use crate::runtime::{ActionQueue, QueueError};
use rustok_domain::content::{BodyFormat, NodeAction, NodeDraft, NodeKind, TranslationInput};
use rustok_domain::read::Outcome;
use rustok_domain::{Actor, Command, CommandEnvelope, NodeId, Tenant};

struct DemoNode {
    kind: NodeKind,
    title: &'static str,
    excerpt: &'static str,
    body: &'static str,
    translations: &'static [(&'static str, &'static str, &'static str)],
    then: &'static [NodeAction],
}

const NODES: &[DemoNode] = &[
    DemoNode {
        kind: NodeKind::Article,
        title: "Welcome to RusToK",
        excerpt: "What this back-office does and where to start.",
        body: "# Welcome\n\nThis console manages the content and the shop of your tenants.\n\n- **Content** (2): write drafts, publish, archive.\n- **Translations** (3): translate side by side.\n- Press `?` for every key.\n",
        translations: &[
            (
                "es",
                "Bienvenido a RusToK",
                "# Bienvenido\n\nEsta consola gestiona el contenido y la tienda.",
            ),
            (
                "de",
                "Willkommen bei RusToK",
                "# Willkommen\n\nDiese Konsole verwaltet Inhalte und den Shop.",
            ),
        ],
        then: &[NodeAction::Publish],
    },
    DemoNode {
        kind: NodeKind::Page,
        title: "About us",
        excerpt: "Who we are.",
        body: "We roast coffee and write about it.\n",
        translations: &[(
            "es",
            "Sobre nosotros",
            "Tostamos café y escribimos sobre ello.",
        )],
        then: &[NodeAction::Publish],
    },
    DemoNode {
        kind: NodeKind::BlogPost,
        title: "Spring collection is here",
        excerpt: "Three new single-origin beans.",
        body: "## New beans\n\n1. Ethiopia Guji\n2. Colombia Huila\n3. Kenya Nyeri\n",
        translations: &[],
        then: &[NodeAction::Publish],
    },
    DemoNode {
        kind: NodeKind::Article,
        title: "Brewing guide: pour-over",
        excerpt: "Grind, bloom, pour.",
        body: "# Pour-over\n\n- 15 g coffee, 250 g water at 94 °C\n- Bloom 30 s, pour in circles\n",
        translations: &[(
            "de",
            "Brühanleitung: Handfilter",
            "# Handfilter\n\n- 15 g Kaffee, 250 g Wasser",
        )],
        then: &[],
    },
    DemoNode {
        kind: NodeKind::Page,
        title: "Shipping and returns",
        excerpt: "",
        body: "Orders ship within two working days. Returns within 30 days.\n",
        translations: &[],
        then: &[NodeAction::Publish],
    },
    DemoNode {
        kind: NodeKind::BlogPost,
        title: "Winter blend (retired)",
        excerpt: "Last season's blend.",
        body: "Thanks for a great winter.\n",
        translations: &[],
        then: &[NodeAction::Publish, NodeAction::Archive],
    },
    DemoNode {
        kind: NodeKind::Article,
        title: "Draft: espresso dial-in checklist",
        excerpt: "",
        body: "- dose\n- yield\n- time\n",
        translations: &[],
        then: &[],
    },
    DemoNode {
        kind: NodeKind::Tag,
        title: "Brewing",
        excerpt: "",
        body: "",
        translations: &[("es", "Preparación", "")],
        then: &[NodeAction::Publish],
    },
];

/// Writes the demo content through the action queue, as a user would. Returns the count.
pub async fn seed(
    queue: &ActionQueue,
    tenant: &Tenant,
    actor: &Actor,
) -> Result<usize, QueueError> {
    let run = |command| queue.execute(CommandEnvelope::new(tenant.id, actor.clone(), command));
    for n in NODES {
        let id = NodeId::new_v7();
        let applied = run(Command::CreateNode(NodeDraft {
            id,
            kind: n.kind,
            locale: tenant.default_locale.clone(),
            title: n.title.into(),
            slug: None,
            excerpt: (!n.excerpt.is_empty()).then(|| n.excerpt.to_string()),
            body: n.body.into(),
            format: BodyFormat::Markdown,
        }))
        .await?;
        debug_assert!(matches!(applied.outcome, Outcome::Node(_)));
        for (locale, title, body) in n.translations {
            if let Ok(locale) = locale.parse() {
                run(Command::TranslateNode {
                    id,
                    input: TranslationInput {
                        locale,
                        title: (*title).into(),
                        slug: None,
                        excerpt: None,
                        body: Some((*body).into()),
                        format: None,
                    },
                    expected_version: None,
                })
                .await?;
            }
        }
        for action in n.then {
            run(Command::ChangeNodeStatus {
                id,
                action: *action,
                expected_version: None,
            })
            .await?;
        }
    }
    Ok(NODES.len())
}
