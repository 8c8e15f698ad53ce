//! Demo content for a fresh database, so a newcomer sees something real: articles, pages and
//! posts in several states, some translated.

use super::error::RuntimeError;
use super::queue::{ActionQueue, QueueError};
use super::reads::Reads;
use rustok_domain::command::NodeTransition;
use rustok_domain::commerce::OrderCommand;
use rustok_domain::commerce::{InventoryPolicy, OrderDraft, ProductDraft};
use rustok_domain::content::{BodyFormat, NodeAction, NodeDraft, NodeKind, TranslationInput};
use rustok_domain::read::Outcome;
use rustok_domain::{Actor, Command, CommandEnvelope, Currency, Money, NodeId, OrderId, Tenant};

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
            run(Command::NodeStatus(NodeTransition {
                id,
                action: *action,
                expected_version: None,
            }))
            .await?;
        }
    }
    Ok(NODES.len())
}

/// The demo shop's products: (sku, title, price in cents, stock).
const PRODUCTS: &[(&str, &str, i64, i64)] = &[
    ("MUG", "Enamel mug", 1250, 40),
    ("BEANS-1KG", "House blend, 1 kg", 2890, 120),
    ("TEE-M", "Logo tee, size M", 2200, 4),
    ("GRINDER", "Hand grinder", 8900, 12),
];

/// Creates the demo products that do not exist yet (looked up through the acting member's
/// reads); returns every demo SKU.
pub async fn ensure_products(
    queue: &ActionQueue,
    reads: &Reads,
    tenant: &Tenant,
    actor: &Actor,
) -> Result<Vec<String>, RuntimeError> {
    for (sku, title, cents, stock) in PRODUCTS {
        if reads.product_by_sku(tenant.id, sku).await?.is_some() {
            continue;
        }
        let draft = ProductDraft {
            id: rustok_domain::ProductId::new_v7(),
            variant_id: rustok_domain::VariantId::new_v7(),
            locale: tenant.default_locale.clone(),
            title: (*title).into(),
            handle: None,
            status: None,
            sku: (*sku).into(),
            variant_title: None,
            price: Money::new(*cents, Currency::USD),
            stock: *stock,
            inventory_policy: InventoryPolicy::Deny,
            low_stock_threshold: None,
        };
        queue
            .execute(CommandEnvelope::new(
                tenant.id,
                actor.clone(),
                Command::CreateProduct(draft),
            ))
            .await?;
    }
    Ok(PRODUCTS.iter().map(|(s, ..)| s.to_string()).collect())
}

/// A few orders in every state, walked through the real pipeline (stock, payment, events).
pub async fn seed_orders(
    queue: &ActionQueue,
    tenant: &Tenant,
    actor: &Actor,
) -> Result<usize, QueueError> {
    let run = |command| queue.execute(CommandEnvelope::new(tenant.id, actor.clone(), command));
    // How far each order goes: 0 pending, 1 confirmed, 2 paid, 3 shipped, 4 delivered, 5 cancelled.
    let plan: &[(&[(&str, i64)], usize)] = &[
        (&[("MUG", 2)], 0),
        (&[("BEANS-1KG", 1), ("MUG", 1)], 1),
        (&[("GRINDER", 1)], 2),
        (&[("BEANS-1KG", 3)], 3),
        (&[("MUG", 4)], 4),
        (&[("TEE-M", 1)], 5),
        (&[("BEANS-1KG", 2)], 0),
    ];
    for (i, (items, steps)) in plan.iter().enumerate() {
        let id = OrderId::new_v7();
        run(Command::CreateOrder(OrderDraft {
            id,
            customer: Some(format!("customer{}@example.com", i + 1)),
            items: items.iter().map(|(s, q)| (s.to_string(), *q)).collect(),
        }))
        .await?;
        if *steps == 5 {
            run(Command::Order(OrderCommand::CancelOrder {
                expected_version: None,
                id,
                reason: "customer changed their mind".into(),
            }))
            .await?;
            continue;
        }
        if *steps >= 1 {
            run(Command::Order(OrderCommand::ConfirmOrder {
                id,
                expected_version: None,
            }))
            .await?;
        }
        if *steps >= 2 {
            run(Command::Order(OrderCommand::PayOrder {
                expected_version: None,
                id,
                card_token: "tok_visa".into(),
            }))
            .await?;
        }
        if *steps >= 3 {
            run(Command::Order(OrderCommand::ShipOrder {
                expected_version: None,
                id,
                carrier: "DHL".into(),
                tracking: format!("JD01460{i}"),
            }))
            .await?;
        }
        if *steps >= 4 {
            run(Command::Order(OrderCommand::DeliverOrder {
                expected_version: None,
                id,
            }))
            .await?;
        }
    }
    Ok(plan.len())
}
