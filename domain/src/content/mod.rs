//! Content nodes: kinds, statuses and their state machine, per-locale translations,
//! validation and slugs, and the pure decisions that change a node.

pub mod diff;
pub mod merge;
mod node;
mod revision;
pub mod schedule;
mod slug;
mod status;
mod validate;

pub use node::{Node, NodeDraft, NodePatch, Translation, TranslationInput};
pub use revision::{
    COPY_SUFFIX, MAX_REVISIONS_PER_NODE, NodeAt, Revision, RevisionContent, copy_slug, copy_title,
};
pub use schedule::{AgendaEntry, Schedule, ScheduledAction};
pub use slug::{slugify, validate_slug};
pub use status::{NodeAction, NodeStatus};
pub use validate::{
    MAX_BODY_BYTES, MAX_BODY_CHARS, MAX_EXCERPT_CHARS, MAX_SLUG_CHARS, MAX_TITLE_CHARS,
    validate_body, validate_excerpt, validate_title,
};

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        /// Through `FromStr`, so a bad value's message is escaped (serde's own quotes the
        /// value raw, control characters included).
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(crate::DomainError::validation(
                        $field,
                        format!(
                            "'{}' is not one of: {}",
                            crate::text::excerpt(s, crate::text::EXCERPT_CHARS),
                            [$($s),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// What a node is.
    NodeKind, "kind", {
        Post => "post", Page => "page", Article => "article", Custom => "custom",
        Block => "block", Menu => "menu", MenuItem => "menu_item", BlogPost => "blog_post",
        Comment => "comment", Category => "category", Tag => "tag",
    }
);

string_enum!(
    /// How a body is written.
    BodyFormat, "format", { Markdown => "markdown", Html => "html", Plain => "plain" }
);
