//! The list behaviour every list view shares: items, a filter over them, an order, and a
//! selection that moves with the keys and stays on its item when the list is replaced.

use std::cmp::Ordering;

use crate::app::keymap::Action;

/// What a list needs to know of its items.
pub trait Item {
    /// Tells items apart, so the selection stays on the same one across refreshes.
    type Key: PartialEq;
    /// The orders the list can be shown in; `()` for the backend's order.
    type Order: Copy + Default;

    fn key(&self) -> Self::Key;

    /// Whether the item matches `needle`, lower-cased and not empty.
    fn matches(&self, needle: &str) -> bool;

    fn compare(&self, _other: &Self, _order: Self::Order) -> Ordering {
        Ordering::Equal
    }
}

/// Rows a page key moves the selection by.
const PAGE: usize = 10;

/// Items as the backend listed them, and what the user made of them.
#[derive(Debug)]
pub struct FilteredList<T: Item> {
    pub items: Vec<T>,
    /// Case-insensitive.
    pub filter: String,
    pub order: T::Order,
    /// Index into `visible()`.
    pub selected: usize,
}

impl<T: Item> Default for FilteredList<T> {
    fn default() -> Self {
        FilteredList {
            items: Vec::new(),
            filter: String::new(),
            order: T::Order::default(),
            selected: 0,
        }
    }
}

impl<T: Item> FilteredList<T> {
    /// The items that match the filter, in the list's order.
    pub fn visible(&self) -> Vec<&T> {
        let needle = self.filter.to_lowercase();
        let mut visible: Vec<&T> = self
            .items
            .iter()
            .filter(|item| needle.is_empty() || item.matches(&needle))
            .collect();
        visible.sort_by(|a, b| a.compare(b, self.order));
        visible
    }

    pub fn selected_item(&self) -> Option<&T> {
        self.visible().get(self.selected).copied()
    }

    pub fn set_filter(&mut self, text: String) {
        self.filter = text;
        self.selected = 0;
    }

    /// Clears the filter; false when there was none.
    pub fn clear_filter(&mut self) -> bool {
        if self.filter.is_empty() {
            return false;
        }
        self.set_filter(String::new());
        true
    }

    /// Moves the selection for the up, down, page and first/last keys; false for any other
    /// action.
    pub fn move_selection(&mut self, action: Action) -> bool {
        let last = self.visible().len().saturating_sub(1);
        let at = self.selected;
        self.selected = match action {
            Action::Up => at.saturating_sub(1),
            Action::Down => (at + 1).min(last),
            Action::PageUp => at.saturating_sub(PAGE),
            Action::PageDown => (at + PAGE).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return false,
        };
        true
    }

    /// Shows `items` instead; the selection stays on its item while it is listed, else at
    /// its place within the rows.
    pub fn replace(&mut self, items: Vec<T>) {
        let selected = self.selected_item().map(Item::key);
        self.items = items;
        let visible = self.visible();
        self.selected = selected
            .and_then(|key| visible.iter().position(|item| item.key() == key))
            .unwrap_or(self.selected)
            .min(visible.len().saturating_sub(1));
    }

    /// Selects the item `key` names if the filter shows it; false when it does not.
    pub fn select(&mut self, key: &T::Key) -> bool {
        match self.visible().iter().position(|item| item.key() == *key) {
            Some(at) => {
                self.selected = at;
                true
            }
            None => false,
        }
    }
}

/// The items a list of `rows` lines shows, with their indices: only those are built, and
/// the window follows `selected`.
pub fn windowed<T>(items: &[T], selected: usize, rows: usize) -> impl Iterator<Item = (usize, &T)> {
    let first = selected.saturating_sub(rows.saturating_sub(1));
    items.iter().enumerate().skip(first).take(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Item for &'static str {
        type Key = &'static str;
        type Order = ();

        fn key(&self) -> &'static str {
            self
        }

        fn matches(&self, needle: &str) -> bool {
            self.contains(needle)
        }
    }

    fn list(items: &[&'static str]) -> FilteredList<&'static str> {
        FilteredList {
            items: items.to_vec(),
            ..FilteredList::default()
        }
    }

    #[test]
    fn the_selection_moves_within_what_the_filter_shows() {
        let mut names = list(&["alpha", "beta", "gamma", "delta"]);
        names.set_filter("TA".to_lowercase());
        assert_eq!(names.visible(), [&"beta", &"delta"]);
        assert!(names.move_selection(Action::Bottom));
        assert_eq!(names.selected_item(), Some(&"delta"));
        assert!(names.move_selection(Action::PageDown));
        assert_eq!(names.selected, 1);
        assert!(!names.move_selection(Action::Quit));
        assert!(names.clear_filter());
        assert!(!names.clear_filter());
        assert_eq!(names.selected, 0);
    }

    #[test]
    fn a_replaced_list_keeps_the_selected_item_or_its_place() {
        let mut names = list(&["alpha", "beta", "gamma"]);
        names.selected = 2;
        names.replace(vec!["new", "alpha", "beta", "gamma"]);
        assert_eq!(names.selected_item(), Some(&"gamma"));
        names.replace(vec!["alpha", "beta"]);
        assert_eq!(names.selected_item(), Some(&"beta"));
        names.replace(Vec::new());
        assert_eq!(names.selected_item(), None);
    }
}
