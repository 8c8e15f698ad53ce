//! Fuzzy filtering (nucleo-matcher, the matcher behind helix and television).

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// Indices of the items matching `query`, best first (ties keep their original order).
pub fn rank<T>(query: &str, items: &[T], key: impl Fn(&T) -> &str) -> Vec<usize> {
    if query.trim().is_empty() {
        return (0..items.len()).collect();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            pattern
                .score(Utf32Str::new(key(item), &mut buf), &mut matcher)
                .map(|s| (s, i))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranks_subsequences() {
        let items = ["Rust ownership", "Python tips", "Async Rust", "rusty nails"];
        let got = super::rank("rust", &items, |s| s);
        assert_eq!(got.len(), 3);
        assert!(!got.contains(&1));
        assert_eq!(super::rank("pyt", &items, |s| s), vec![1]);
        assert_eq!(super::rank("", &items, |s| s), vec![0, 1, 2, 3]);
        assert!(super::rank("zzz", &items, |s| s).is_empty());
    }
}
