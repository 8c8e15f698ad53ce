//! Products and their variants: the catalog side of commerce.

use crate::content::{slugify, string_enum, validate_slug, validate_title};
use crate::event::{self, DomainEvent};
use crate::{DomainError, Locale, Money, ProductId, TenantId, VariantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Stock at or below this many available units raises `inventory.low` unless a variant says
/// otherwise.
pub const DEFAULT_LOW_STOCK_THRESHOLD: i64 = 5;

/// Longest SKU accepted.
pub const MAX_SKU_CHARS: usize = 64;

/// Most units a person may put on hand: the initial stock, a low-stock threshold, one manual
/// adjustment and the units on hand an increase leads to are each at most this. A billion
/// units is far beyond any shelf, and far below where stock arithmetic (`i64`) would
/// overflow, so no input can wedge a variant.
pub const MAX_STOCK: i64 = 1_000_000_000;

string_enum!(
    /// Whether a product can be sold.
    ProductStatus, "status", { Draft => "draft", Active => "active", Archived => "archived" }
);

string_enum!(
    /// What happens when a variant runs out: `deny` refuses to reserve more than is
    /// available, `continue` allows overselling (backorders).
    InventoryPolicy, "policy", { Deny => "deny", Continue => "continue" }
);

// `string_enum!` cannot put `#[default]` on a variant, so this is written out.
#[allow(clippy::derivable_impls)]
impl Default for InventoryPolicy {
    fn default() -> Self {
        InventoryPolicy::Deny
    }
}

/// One locale's name of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductTranslation {
    pub locale: Locale,
    pub title: String,
    /// URL handle: slug rules (`[a-z0-9-]`, no leading, trailing or double `-`), unique per
    /// (tenant, locale) — the store checks uniqueness.
    pub handle: String,
}

/// A sellable variant: SKU, price and stock.
///
/// `available = on_hand - reserved`. Under the `deny` policy the inventory functions keep
/// `0 <= reserved <= on_hand`; under `continue` reservations (and so sales) may exceed what is
/// on hand, and `on_hand` may go negative (backorders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub id: VariantId,
    pub product_id: ProductId,
    /// Unique per tenant (the store checks uniqueness).
    pub sku: String,
    /// What an order line calls this variant; defaults to the product title.
    pub title: String,
    pub price: Money,
    pub inventory_policy: InventoryPolicy,
    pub on_hand: i64,
    pub reserved: i64,
    pub low_stock_threshold: i64,
}

/// A catalog product with its translations and (at least one) variants.
///
/// `version` counts catalog edits (optimistic locking); stock changes live on the variants
/// and do not bump it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub tenant_id: TenantId,
    pub status: ProductStatus,
    pub version: i64,
    pub source_locale: Locale,
    /// Sorted by locale, one entry per locale, at least one.
    pub translations: Vec<ProductTranslation>,
    pub variants: Vec<Variant>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Input for creating a product with its first variant
/// (`product create --title T --sku SKU --price 12.50 --currency USD [--stock N]
/// [--policy deny|continue] [--low-stock N]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDraft {
    pub id: ProductId,
    pub variant_id: VariantId,
    /// The locale the title is written in (the CLI passes the tenant's default locale).
    pub locale: Locale,
    pub title: String,
    /// Derived from the title when absent.
    #[serde(default)]
    pub handle: Option<String>,
    /// `active` when absent, so a new product can be ordered at once.
    #[serde(default)]
    pub status: Option<ProductStatus>,
    pub sku: String,
    /// The product title when absent.
    #[serde(default)]
    pub variant_title: Option<String>,
    pub price: Money,
    #[serde(default)]
    pub inventory_policy: InventoryPolicy,
    /// Initial units on hand (0 when absent).
    #[serde(default)]
    pub stock: i64,
    /// [`DEFAULT_LOW_STOCK_THRESHOLD`] when absent.
    #[serde(default)]
    pub low_stock_threshold: Option<i64>,
}

/// A SKU: 1–64 characters of `A-Z a-z 0-9 - _ .`.
pub fn validate_sku(sku: &str) -> Result<(), DomainError> {
    if sku.is_empty() {
        return Err(DomainError::validation("sku", "must not be empty"));
    }
    let n = sku.chars().count();
    if n > MAX_SKU_CHARS {
        return Err(DomainError::validation(
            "sku",
            format!("is {n} characters long; the limit is {MAX_SKU_CHARS}"),
        ));
    }
    if !sku
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(DomainError::validation(
            "sku",
            format!(
                "'{}' may only contain A-Z, a-z, 0-9, '-', '_' and '.'",
                crate::text::excerpt(sku, crate::text::EXCERPT_CHARS)
            ),
        ));
    }
    Ok(())
}

/// A product handle follows the content slug rules; errors name the `handle` field.
pub fn validate_handle(handle: &str) -> Result<(), DomainError> {
    validate_slug(handle).map_err(|e| match e {
        DomainError::Validation { message, .. } => DomainError::validation("handle", message),
        other => other,
    })
}

fn validate_count(field: &'static str, value: i64) -> Result<(), DomainError> {
    if value < 0 {
        return Err(DomainError::validation(
            field,
            format!("must not be negative, got {value}"),
        ));
    }
    if value > MAX_STOCK {
        return Err(DomainError::validation(
            field,
            format!("must be at most {MAX_STOCK}, got {value}"),
        ));
    }
    Ok(())
}

impl Product {
    /// Decides the creation of a product at version 1 with one translation and one variant.
    /// Handle uniqueness per (tenant, locale) and SKU uniqueness per tenant are the store's to
    /// check inside the same transaction. Emits `product.created`.
    pub fn create(
        tenant_id: TenantId,
        draft: ProductDraft,
        now: DateTime<Utc>,
    ) -> Result<(Product, Vec<DomainEvent>), DomainError> {
        if draft.id.is_nil() {
            return Err(DomainError::validation("id", "must not be nil"));
        }
        if draft.variant_id.is_nil() {
            return Err(DomainError::validation("variant_id", "must not be nil"));
        }
        validate_title(&draft.title)?;
        let handle = match draft.handle {
            Some(h) => {
                validate_handle(&h)?;
                h
            }
            None => slugify(&draft.title).unwrap_or_else(|| {
                let hex = draft.id.as_uuid().simple().to_string();
                format!("product-{}", &hex[hex.len() - 8..])
            }),
        };
        validate_sku(&draft.sku)?;
        let variant_title = match draft.variant_title {
            Some(t) => {
                validate_title(&t)?;
                t
            }
            None => draft.title.clone(),
        };
        if draft.price.amount < 0 {
            return Err(DomainError::validation(
                "price",
                format!("must not be negative, got {}", draft.price),
            ));
        }
        validate_count("stock", draft.stock)?;
        let threshold = draft
            .low_stock_threshold
            .unwrap_or(DEFAULT_LOW_STOCK_THRESHOLD);
        validate_count("low_stock_threshold", threshold)?;
        let variant = Variant {
            id: draft.variant_id,
            product_id: draft.id,
            sku: draft.sku,
            title: variant_title,
            price: draft.price,
            inventory_policy: draft.inventory_policy,
            on_hand: draft.stock,
            reserved: 0,
            low_stock_threshold: threshold,
        };
        let translation = ProductTranslation {
            locale: draft.locale.clone(),
            title: draft.title,
            handle,
        };
        let product = Product {
            id: draft.id,
            tenant_id,
            status: draft.status.unwrap_or(ProductStatus::Active),
            version: 1,
            source_locale: draft.locale,
            translations: vec![translation.clone()],
            variants: vec![variant],
            created_at: now,
            updated_at: now,
        };
        let event = DomainEvent::ProductCreated(event::ProductCreated {
            locale: translation.locale,
            title: translation.title,
            handle: translation.handle,
            status: product.status,
            variants: product
                .variants
                .iter()
                .map(|v| event::ProductVariantCreated {
                    variant_id: v.id,
                    sku: v.sku.clone(),
                    title: v.title.clone(),
                    price: v.price,
                    inventory_policy: v.inventory_policy,
                    on_hand: v.on_hand,
                    low_stock_threshold: v.low_stock_threshold,
                })
                .collect(),
            version: product.version,
        });
        Ok((product, vec![event]))
    }

    pub fn translation(&self, locale: &Locale) -> Option<&ProductTranslation> {
        self.translations.iter().find(|t| &t.locale == locale)
    }

    /// The translation in the source locale (or the first one there is).
    pub fn source(&self) -> Option<&ProductTranslation> {
        self.translation(&self.source_locale)
            .or_else(|| self.translations.first())
    }

    /// The title in the source locale (empty only for a malformed product without any).
    pub fn title(&self) -> &str {
        self.source().map_or("", |t| t.title.as_str())
    }

    pub fn variant_by_sku(&self, sku: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.sku == sku)
    }

    /// Optimistic locking: an edit made against an older version is refused.
    pub fn check_version(&self, expected: Option<i64>) -> Result<(), DomainError> {
        match expected {
            Some(v) if v != self.version => Err(DomainError::VersionConflict {
                entity: "product",
                expected: v,
                actual: self.version,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn draft(title: &str, sku: &str, price: &str) -> ProductDraft {
        ProductDraft {
            id: ProductId::new_v7(),
            variant_id: VariantId::new_v7(),
            locale: "en".parse().unwrap(),
            title: title.into(),
            handle: None,
            status: None,
            sku: sku.into(),
            variant_title: None,
            price: Money::parse(price, Currency::USD).unwrap(),
            inventory_policy: InventoryPolicy::Deny,
            stock: 10,
            low_stock_threshold: None,
        }
    }

    #[test]
    fn creates_active_product_with_one_variant() {
        let now = Utc::now();
        let t = TenantId::new_v7();
        let (p, ev) =
            Product::create(t, draft("Blue T-Shirt", "TS-BLUE.M_1", "12.50"), now).unwrap();
        assert_eq!(
            (p.status, p.version, p.tenant_id),
            (ProductStatus::Active, 1, t)
        );
        assert_eq!(p.source().unwrap().handle, "blue-t-shirt");
        assert_eq!(p.title(), "Blue T-Shirt");
        let v = p.variant_by_sku("TS-BLUE.M_1").unwrap();
        assert_eq!((v.price.amount, v.on_hand, v.reserved), (1250, 10, 0));
        assert_eq!(v.low_stock_threshold, DEFAULT_LOW_STOCK_THRESHOLD);
        assert_eq!(v.title, "Blue T-Shirt");
        assert_eq!(v.product_id, p.id);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].event_type(), "product.created");
        assert_eq!(ev[0].aggregate_type(), "product");
        let back = DomainEvent::from_parts(ev[0].event_type(), &ev[0].payload()).unwrap();
        assert_eq!(back, ev[0]);
        assert!(p.check_version(Some(1)).is_ok());
        assert!(p.check_version(Some(2)).is_err());
    }

    #[test]
    fn handle_fallback_and_explicit() {
        let now = Utc::now();
        let t = TenantId::new_v7();
        let (p, _) = Product::create(t, draft("Футболка", "F-1", "1"), now).unwrap();
        assert_eq!(p.source().unwrap().handle, "futbolka", "transliterated");
        let (p, _) = Product::create(t, draft("☕ ✨", "F-2", "1"), now).unwrap();
        assert!(p.source().unwrap().handle.starts_with("product-"));
        let mut d = draft("Shirt", "S-1", "1");
        d.handle = Some("my-shirt".into());
        let (p, _) = Product::create(t, d, now).unwrap();
        assert_eq!(p.source().unwrap().handle, "my-shirt");
        let mut d = draft("Shirt", "S-1", "1");
        d.handle = Some("My Shirt".into());
        let err = Product::create(t, d, now).unwrap_err();
        assert_eq!(err.field(), Some("handle"));
    }

    #[test]
    fn sku_rules() {
        for ok in ["A", "abc-DEF_123.x", &"x".repeat(64)] {
            assert!(validate_sku(ok).is_ok(), "{ok}");
        }
        for bad in ["", " ", "a b", "a/b", "ä", "a\x1b", &"x".repeat(65)] {
            let e = validate_sku(bad).unwrap_err();
            assert_eq!(e.field(), Some("sku"), "{bad:?}");
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn rejects_bad_input() {
        let now = Utc::now();
        let t = TenantId::new_v7();
        type Edit = Box<dyn Fn(&mut ProductDraft)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("title", Box::new(|d| d.title = "  ".into())),
            ("sku", Box::new(|d| d.sku = "bad sku".into())),
            (
                "price",
                Box::new(|d| d.price = Money::new(-1, Currency::USD)),
            ),
            ("stock", Box::new(|d| d.stock = -1)),
            (
                "low_stock_threshold",
                Box::new(|d| d.low_stock_threshold = Some(-2)),
            ),
            (
                "id",
                Box::new(|d| d.id = ProductId::from_uuid(uuid::Uuid::nil())),
            ),
            (
                "variant_id",
                Box::new(|d| d.variant_id = VariantId::from_uuid(uuid::Uuid::nil())),
            ),
            ("title", Box::new(|d| d.variant_title = Some(String::new()))),
        ];
        for (field, edit) in cases {
            let mut d = draft("Shirt", "S-1", "1.00");
            edit(&mut d);
            assert_eq!(Product::create(t, d, now).unwrap_err().field(), Some(field));
        }
        let mut d = draft("Shirt", "S-1", "0");
        d.status = Some(ProductStatus::Draft);
        d.stock = 0;
        d.low_stock_threshold = Some(0);
        let (p, _) = Product::create(t, d, now).unwrap();
        assert_eq!(p.status, ProductStatus::Draft);
    }

    #[test]
    fn policy_parses() {
        assert_eq!(
            "continue".parse::<InventoryPolicy>().unwrap(),
            InventoryPolicy::Continue
        );
        assert_eq!(InventoryPolicy::default(), InventoryPolicy::Deny);
        assert!("maybe".parse::<InventoryPolicy>().is_err());
    }
}
