//! Property tests for the typed UUIDv7 ids (`TenantId`, `NodeId`, `EventId`, `CommandId`).
//!
//! Sprint 4, task 4.2: format preservation, value semantics, uniqueness, JSON roundtrip, nil
//! handling, ordering and hashing; plus time ordering of generated ids and total parsing.

use proptest::prelude::*;
use rustok_domain::text::has_control;
use rustok_domain::{CommandId, EventId, NodeId, OrderId, ProductId, TenantId, VariantId};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// Any UUID bit pattern, with a bias towards a handful of tiny values so that equal ids (and
/// the nil id) show up often in comparisons.
fn any_uuid() -> impl Strategy<Value = Uuid> {
    prop_oneof![
        3 => any::<u128>().prop_map(Uuid::from_u128),
        1 => (0u128..4).prop_map(Uuid::from_u128),
    ]
}

/// A well-formed UUIDv7 built from an arbitrary timestamp and random bits.
fn any_v7() -> impl Strategy<Value = Uuid> {
    (0u64..(1u64 << 48), any::<[u8; 10]>())
        .prop_map(|(ms, rand)| uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid())
}

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

fn now_ms() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(d.as_millis()).unwrap()
}

/// Display → FromStr for one id type.
fn assert_string_roundtrip<T>(id: T, uuid: Uuid) -> Result<(), TestCaseError>
where
    T: FromStr + std::fmt::Display + PartialEq + std::fmt::Debug + Copy,
    T::Err: std::fmt::Debug,
{
    let s = id.to_string();
    prop_assert_eq!(&s, &uuid.hyphenated().to_string());
    prop_assert_eq!(s.len(), 36);
    prop_assert!(
        s.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "not lowercase hyphenated hex: {}",
        s
    );
    prop_assert_eq!(s.parse::<T>().unwrap(), id);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Property 1: format preservation through string conversion. Display yields the
    /// canonical lowercase hyphenated UUID, and parsing it (or an uppercase, simple,
    /// whitespace-padded spelling of it) yields the same id.
    #[test]
    fn display_fromstr_roundtrip(uuid in any_uuid(), pad_l in "[ \t\n]{0,3}", pad_r in "[ \t\n]{0,3}") {
        let id = TenantId::from_uuid(uuid);
        prop_assert_eq!(id.as_uuid(), uuid);
        prop_assert_eq!(Uuid::from(id), uuid);
        assert_string_roundtrip(id, uuid)?;
        assert_string_roundtrip(NodeId::from_uuid(uuid), uuid)?;
        assert_string_roundtrip(EventId::from_uuid(uuid), uuid)?;
        assert_string_roundtrip(CommandId::from_uuid(uuid), uuid)?;
        assert_string_roundtrip(ProductId::from_uuid(uuid), uuid)?;
        assert_string_roundtrip(VariantId::from_uuid(uuid), uuid)?;
        assert_string_roundtrip(OrderId::from_uuid(uuid), uuid)?;

        let s = id.to_string();
        prop_assert_eq!(s.to_uppercase().parse::<TenantId>().unwrap(), id);
        prop_assert_eq!(uuid.simple().to_string().parse::<TenantId>().unwrap(), id);
        prop_assert_eq!(format!("{pad_l}{s}{pad_r}").parse::<TenantId>().unwrap(), id);
        // Debug names the type, so ids of different kinds are told apart in logs.
        prop_assert_eq!(format!("{id:?}"), format!("TenantId({s})"));
        prop_assert_eq!(format!("{:?}", NodeId::from_uuid(uuid)), format!("NodeId({s})"));
    }

    /// Property 2: tenant ids are values. A copy equals the original, hashes the same, and
    /// rebinding the copy leaves the original untouched; equality is exactly UUID equality.
    #[test]
    fn tenant_id_value_semantics(a in any_uuid(), b in any_uuid()) {
        let original = TenantId::from_uuid(a);
        let mut copy = original;
        prop_assert_eq!(copy, original);
        prop_assert_eq!(hash_of(&copy), hash_of(&original));
        copy = TenantId::from_uuid(b);
        prop_assert_eq!(original.as_uuid(), a, "the original changed when its copy was rebound");
        prop_assert_eq!(copy == original, a == b);
        prop_assert_eq!(TenantId::from_uuid(a) == TenantId::from_uuid(b), a == b);
        // Passing by value into a function and back does not alter it either.
        let through = std::convert::identity(original);
        prop_assert_eq!(through, TenantId::from_uuid(a));
    }

    /// Property 3: generated ids are unique, never nil, and are version-7 UUIDs.
    #[test]
    fn generated_ids_are_unique(n in 1usize..400) {
        let ids: Vec<TenantId> = (0..n).map(|_| TenantId::new_v7()).collect();
        let distinct: HashSet<TenantId> = ids.iter().copied().collect();
        prop_assert_eq!(distinct.len(), n);
        for id in &ids {
            prop_assert!(!id.is_nil());
            prop_assert_eq!(id.as_uuid().get_version_num(), 7);
            prop_assert_eq!(id.as_uuid().get_variant(), uuid::Variant::RFC4122);
        }
        // Ids of different types come from the same generator and do not collide either.
        let mut all: HashSet<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        for _ in 0..n {
            prop_assert!(all.insert(NodeId::new_v7().as_uuid()));
            prop_assert!(all.insert(EventId::new_v7().as_uuid()));
            prop_assert!(all.insert(CommandId::new_v7().as_uuid()));
        }
    }

    /// Property 3b: ids generated one after another are time-ordered: each is greater than
    /// the one before, and its embedded timestamp lies within the generation window.
    #[test]
    fn generated_ids_are_time_ordered(n in 2usize..300) {
        let before = now_ms();
        let ids: Vec<EventId> = (0..n).map(|_| EventId::new_v7()).collect();
        let after = now_ms();
        for pair in ids.windows(2) {
            prop_assert!(pair[1] > pair[0], "{:?} was generated after {:?}", pair[1], pair[0]);
            prop_assert!(pair[1].to_string() > pair[0].to_string(), "string order differs from id order");
        }
        for id in &ids {
            let (secs, nanos) = id.as_uuid().get_timestamp().unwrap().to_unix();
            let ms = secs * 1000 + u64::from(nanos) / 1_000_000;
            // +1: on a (rare) counter overflow the generator borrows the next millisecond.
            prop_assert!(before <= ms && ms <= after + 1, "timestamp {} outside [{}, {}]", ms, before, after);
        }
    }

    /// Property 4: JSON serialization roundtrip. An id serializes as a plain UUID string
    /// (no wrapper object), in lists and as a map key, and deserializes back to itself.
    #[test]
    fn json_roundtrip(uuid in any_uuid(), more in prop::collection::vec(any_uuid(), 0..8)) {
        let id = TenantId::from_uuid(uuid);
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(&json, &format!("\"{}\"", uuid.hyphenated()));
        prop_assert_eq!(serde_json::from_str::<TenantId>(&json).unwrap(), id);
        prop_assert_eq!(serde_json::to_value(NodeId::from_uuid(uuid)).unwrap(), serde_json::Value::String(uuid.to_string()));

        let list: Vec<EventId> = more.iter().copied().map(EventId::from_uuid).collect();
        let back: Vec<EventId> = serde_json::from_str(&serde_json::to_string(&list).unwrap()).unwrap();
        prop_assert_eq!(back, list);

        let map: HashMap<TenantId, usize> = more.iter().enumerate().map(|(i, u)| (TenantId::from_uuid(*u), i)).collect();
        let back: HashMap<TenantId, usize> = serde_json::from_str(&serde_json::to_string(&map).unwrap()).unwrap();
        prop_assert_eq!(back, map);
    }

    /// Property 4b: JSON that is not a UUID string never deserializes into an id.
    #[test]
    fn json_rejects_non_uuid(n in any::<i64>(), s in "[g-z ]{0,40}") {
        prop_assert!(serde_json::from_str::<TenantId>(&n.to_string()).is_err());
        prop_assert!(serde_json::from_value::<TenantId>(serde_json::Value::String(s)).is_err());
        prop_assert!(serde_json::from_str::<TenantId>("null").is_err());
        let empty_object = "{}";
        prop_assert!(serde_json::from_str::<TenantId>(empty_object).is_err());
    }

    /// Property 5: the nil UUID is representable, reports itself as nil, prints as all zeros,
    /// and is distinguishable from every generated id; no other value is nil.
    #[test]
    fn nil_handling(uuid in any_uuid()) {
        let nil = TenantId::from_uuid(Uuid::nil());
        prop_assert!(nil.is_nil());
        prop_assert_eq!(nil.to_string(), "00000000-0000-0000-0000-000000000000");
        prop_assert_eq!("00000000-0000-0000-0000-000000000000".parse::<TenantId>().unwrap(), nil);
        prop_assert_eq!(TenantId::from_uuid(uuid).is_nil(), uuid.as_u128() == 0);
        let generated = TenantId::new_v7();
        prop_assert!(!generated.is_nil());
        prop_assert_ne!(generated, nil);
        prop_assert!(generated > nil, "nil sorts before every other id");
        prop_assert_eq!(serde_json::from_str::<TenantId>(&serde_json::to_string(&nil).unwrap()).unwrap(), nil);
    }

    /// Property 6: ordering is a total order consistent with the UUID's 128-bit value:
    /// reflexive equality, antisymmetry and transitivity.
    #[test]
    fn ordering_is_total_and_transitive(a in any_uuid(), b in any_uuid(), c in any_uuid()) {
        let (x, y, z) = (TenantId::from_uuid(a), TenantId::from_uuid(b), TenantId::from_uuid(c));
        prop_assert_eq!(x, x);
        prop_assert_eq!(x.cmp(&x), std::cmp::Ordering::Equal);
        prop_assert_eq!(x.cmp(&y), a.as_u128().cmp(&b.as_u128()));
        prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        prop_assert_eq!(x.partial_cmp(&y), Some(x.cmp(&y)));
        prop_assert_eq!(x.cmp(&y) == std::cmp::Ordering::Equal, x == y);
        if x <= y && y <= z {
            prop_assert!(x <= z);
        }
        if x < y && y < z {
            prop_assert!(x < z);
        }
        let mut sorted = [x, y, z];
        sorted.sort();
        prop_assert!(sorted[0] <= sorted[1] && sorted[1] <= sorted[2] && sorted[0] <= sorted[2]);
    }

    /// Property 6b: ordering of v7 ids follows their embedded timestamps.
    #[test]
    fn v7_order_follows_timestamp(a in any_v7(), b in any_v7()) {
        let ts = |u: Uuid| u.get_timestamp().unwrap().to_unix();
        let (x, y) = (EventId::from_uuid(a), EventId::from_uuid(b));
        if ts(a) < ts(b) {
            prop_assert!(x < y);
        }
        if x < y {
            prop_assert!(ts(a) <= ts(b));
        }
    }

    /// Property 7: hash consistency. Equal ids hash equally (also through a parsed copy),
    /// and ids work as HashMap/HashSet keys: one entry per distinct UUID, every one found.
    #[test]
    fn hash_consistency(uuids in prop::collection::vec(any_uuid(), 0..64)) {
        let state = std::collections::hash_map::RandomState::new();
        let mut map: HashMap<TenantId, u128> = HashMap::new();
        for u in &uuids {
            let id = TenantId::from_uuid(*u);
            let parsed: TenantId = id.to_string().parse().unwrap();
            prop_assert_eq!(hash_of(&id), hash_of(&parsed));
            prop_assert_eq!(state.hash_one(id), state.hash_one(parsed));
            map.insert(id, u.as_u128());
        }
        let distinct: HashSet<u128> = uuids.iter().map(|u| u.as_u128()).collect();
        prop_assert_eq!(map.len(), distinct.len());
        let set: HashSet<TenantId> = uuids.iter().copied().map(TenantId::from_uuid).collect();
        prop_assert_eq!(set.len(), distinct.len());
        for u in &uuids {
            let key: TenantId = u.to_string().parse().unwrap();
            prop_assert_eq!(map.get(&key), Some(&u.as_u128()));
            prop_assert!(set.contains(&key));
        }
    }

    /// Parsing never panics. The result agrees with the UUID grammar (after trimming), and
    /// an error message never carries a raw control character to the terminal.
    #[test]
    fn parsing_arbitrary_strings_never_panics(s in any::<String>()) {
        let parsed = s.parse::<TenantId>();
        match (&parsed, Uuid::parse_str(s.trim())) {
            (Ok(id), Ok(u)) => prop_assert_eq!(id.as_uuid(), u),
            (Err(e), Err(_)) => {
                prop_assert_eq!(e.kind(), "validation");
                prop_assert_eq!(e.field(), Some("id"));
                prop_assert!(!has_control(&e.to_string()), "unescaped control char in {:?}", e.to_string());
            }
            (p, u) => prop_assert!(false, "parse {:?} disagrees with uuid {:?}", p, u),
        }
    }

    /// Strings that are not UUIDs are rejected: text without hex digits, and a valid id with
    /// one character replaced by a non-hex one, or one character cut off.
    #[test]
    fn non_uuids_are_rejected(
        junk in "[g-zG-Z ,.!?_-]{0,40}",
        uuid in any_uuid(),
        pos in 0usize..36,
        bad in "[g-zG-Z!%]",
    ) {
        prop_assert!(junk.parse::<TenantId>().is_err());
        let s = uuid.to_string();
        let mut corrupted = s.clone();
        corrupted.replace_range(pos..=pos, &bad);
        prop_assert!(corrupted.parse::<TenantId>().is_err(), "{} parsed", corrupted);
        prop_assert!(s[..35].parse::<NodeId>().is_err());
        let too_long = format!("{s}0");
        prop_assert!(too_long.parse::<EventId>().is_err());
        let with_escape = format!("{s}\x1b[2J");
        prop_assert!(with_escape.parse::<CommandId>().is_err());
    }
}
