//! Full-text search in the console (issue 20, key `search`, `F` on Content): the store's
//! search (the one behind `rustok node search`) over every node and every locale, not only
//! the source titles of the recent nodes the `/` filter ranks. Results show the locale, the
//! title and a snippet with the words searched for highlighted; Enter opens the node, `t`
//! its translation editor in the hit's locale. The selection is the hit's node and locale.

use crate::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph};
use rustok_domain::read::SearchHit;
use rustok_domain::text::printable;
use rustok_domain::{Locale, NodeId, short_id};

/// The longest search text read (the CLI's `node search` takes the same store query).
pub const MAX_SEARCH_CHARS: usize = 200;
/// How many hits a search asks for.
pub const SEARCH_LIMIT: u64 = 100;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchView {
    /// The text being typed (or last searched).
    pub query: String,
    /// Typing the query (keys go to it).
    pub editing: bool,
    /// The text of the results shown (what was searched).
    pub searched: String,
    /// `None` before the first answer or while a search runs.
    pub hits: Option<Vec<SearchHit>>,
    selected: Option<(NodeId, Locale)>,
}

/// What a key did in the search view.
pub enum SearchStep {
    Consumed,
    /// Run the search for this text.
    Search(String),
    Close,
    Open(NodeId),
    /// Translate the hit's node, into the hit's locale.
    Translate(NodeId, Locale),
    Unused,
}

impl SearchView {
    pub fn new() -> SearchView {
        SearchView {
            editing: true,
            ..SearchView::default()
        }
    }

    pub fn on_hits(&mut self, hits: Vec<SearchHit>) {
        self.selected = hits.first().map(|h| (h.node_id, h.locale.clone()));
        self.hits = Some(hits);
    }

    fn selected_index(&self) -> Option<usize> {
        let (id, l) = self.selected.as_ref()?;
        self.hits
            .as_ref()?
            .iter()
            .position(|h| h.node_id == *id && h.locale == *l)
    }

    pub fn selected(&self) -> Option<&SearchHit> {
        let i = self.selected_index()?;
        self.hits.as_ref()?.get(i)
    }

    fn move_by(&mut self, d: i64) {
        let Some(hits) = &self.hits else { return };
        if hits.is_empty() {
            return;
        }
        let i = self.selected_index().unwrap_or(0) as i64;
        let j = (i + d).clamp(0, hits.len() as i64 - 1) as usize;
        self.selected = Some((hits[j].node_id, hits[j].locale.clone()));
    }

    /// While typing: characters (bounded to [`MAX_SEARCH_CHARS`]), Backspace, Enter searches,
    /// Esc closes. Over the results: Up/Down (k/j) move, Enter opens, `t` translates, `/` or
    /// `F` types a new search, Esc closes.
    pub fn key(&mut self, key: &KeyEvent) -> SearchStep {
        if self.editing {
            match key.code {
                KeyCode::Esc => return SearchStep::Close,
                KeyCode::Enter => {
                    let q = self.query.trim().to_string();
                    if q.is_empty() {
                        return SearchStep::Consumed;
                    }
                    self.editing = false;
                    self.searched = q.clone();
                    self.hits = None;
                    return SearchStep::Search(q);
                }
                KeyCode::Backspace => {
                    self.query.pop();
                }
                // Past MAX_SEARCH_CHARS typing stops (the key is still taken).
                KeyCode::Char(c)
                    if !key.modifiers.contains(KeyModifiers::CONTROL)
                        && !c.is_control()
                        && self.query.chars().count() < MAX_SEARCH_CHARS =>
                {
                    self.query.push(c);
                }
                _ => {}
            }
            return SearchStep::Consumed;
        }
        match key.code {
            KeyCode::Esc => SearchStep::Close,
            KeyCode::Up | KeyCode::Char('k') => {
                self.move_by(-1);
                SearchStep::Consumed
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.move_by(1);
                SearchStep::Consumed
            }
            KeyCode::Char('/') | KeyCode::Char('F') => {
                self.editing = true;
                SearchStep::Consumed
            }
            KeyCode::Enter => match self.selected() {
                Some(h) => SearchStep::Open(h.node_id),
                None => SearchStep::Consumed,
            },
            KeyCode::Char('t') => match self.selected() {
                Some(h) => SearchStep::Translate(h.node_id, h.locale.clone()),
                None => SearchStep::Consumed,
            },
            _ => SearchStep::Unused,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let count = match &self.hits {
            Some(h) if !self.searched.is_empty() => format!(
                "{} match(es) for '{}' in every locale ",
                h.len(),
                printable(&self.searched)
            ),
            _ => "every node, every locale ".to_string(),
        };
        let block = Block::bordered()
            .border_style(theme.border(focused))
            .title(Line::from(vec![
                Span::styled(" Search ", theme.title()),
                Span::styled(count, theme.muted()),
            ]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height == 0 {
            return;
        }
        let input = Rect { height: 1, ..inner };
        let results = Rect {
            y: inner.y + 1,
            height: inner.height - 1,
            ..inner
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("find: ", theme.muted()),
                Span::raw(printable(&self.query)),
                Span::styled(if self.editing { "▏" } else { "" }, theme.key()),
                Span::styled(
                    if self.editing {
                        "   Enter search · Esc close"
                    } else {
                        "   Enter open · t translate · / new search · Esc close"
                    },
                    theme.muted(),
                ),
            ])),
            input,
        );
        let words = terms(&self.searched);
        let mark = theme
            .key()
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        let lines: Vec<ListItem> = match &self.hits {
            None if !self.searched.is_empty() => {
                vec![ListItem::new(Line::styled("searching…", theme.muted()))]
            }
            None => vec![ListItem::new(Line::styled(
                "Type words and Enter: titles, excerpts and bodies of every locale.",
                theme.muted(),
            ))],
            Some(h) if h.is_empty() => {
                vec![ListItem::new(Line::styled("no matches", theme.muted()))]
            }
            Some(hits) => hits
                .iter()
                .map(|h| {
                    let mut head = vec![
                        Span::styled(format!("{:<7}", h.locale.to_string()), theme.key()),
                        Span::styled(format!("{:<10}", h.status.as_str()), theme.status(h.status)),
                        Span::styled(format!("{} ", short_id(h.node_id.as_uuid())), theme.muted()),
                    ];
                    head.extend(highlight(&h.title, &words, Style::new(), mark));
                    let snippet = h.snippet.as_deref().unwrap_or("");
                    let mut body = vec![Span::raw("    ")];
                    body.extend(highlight(snippet, &words, theme.muted(), mark));
                    ListItem::new(vec![Line::from(head), Line::from(body)])
                })
                .collect(),
        };
        let mut state = ListState::default().with_selected(self.selected_index());
        frame.render_stateful_widget(
            List::new(lines).highlight_style(if focused {
                theme.selected()
            } else {
                Style::new()
            }),
            results,
            &mut state,
        );
    }
}

/// The words of a search, lower-cased (what the snippet highlights): cut at every character
/// that is not a letter or digit, as the store cuts the words it searches for.
pub fn terms(query: &str) -> Vec<Vec<char>> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .map(|w| w.chars().map(lower).collect::<Vec<char>>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// One char lower-cased to one char (so positions stay the same).
fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// `text` (made printable) as spans, every occurrence of a word of `words` (case ignored)
/// in `mark`, the rest in `base`. The search matches a word's prefix, so an occurrence is
/// marked wherever it starts.
pub fn highlight(text: &str, words: &[Vec<char>], base: Style, mark: Style) -> Vec<Span<'static>> {
    let chars: Vec<char> = printable(text).chars().collect();
    let low: Vec<char> = chars.iter().copied().map(lower).collect();
    let mut marked = vec![false; chars.len()];
    for w in words {
        if w.len() > low.len() {
            continue;
        }
        for i in 0..=(low.len() - w.len()) {
            if low[i..i + w.len()] == w[..] {
                marked[i..i + w.len()].iter_mut().for_each(|m| *m = true);
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let m = marked[i];
        let start = i;
        while i < chars.len() && marked[i] == m {
            i += 1;
        }
        let s: String = chars[start..i].iter().collect();
        out.push(Span::styled(s, if m { mark } else { base }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_highlighted_ignoring_case() {
        let w = terms("колд Casa");
        let spans = highlight("La casa — Колдун", &w, Style::new(), Style::new().bold());
        let text: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, vec!["La ", "casa", " — ", "Колд", "ун"]);
    }

    #[test]
    fn words_are_cut_where_the_store_cuts_them() {
        let w = terms("cold-brew (o'clock)");
        let expect: Vec<Vec<char>> = ["cold", "brew", "o", "clock"]
            .iter()
            .map(|s| s.chars().collect())
            .collect();
        assert_eq!(w, expect);
    }
}
