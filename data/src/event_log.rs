//! The event log in columns: every event of an input, names interned, one vector per field.
//!
//! Prediction tasks (features before a cutoff, labels after it) and the sequence builder read this. A row
//! costs 8 (time) + 4 (user) + 4 (item) + 1 (action) bytes, plus 4 for sessions and categories and 4 + 4
//! for quantity and price only when the log has them.

use crate::event::{Event, Timestamp};
use crate::ids::{ActionId, CategoryId, KeyId, ProductId};

/// Columnar storage of events in input order (sort with [`EventLog::order_by_user_time`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventLog {
    /// User of each event (`Dictionary::users`).
    pub user: Vec<KeyId>,
    /// Session of each event (`Dictionary::sessions`), when the log has sessions.
    pub session: Option<Vec<KeyId>>,
    /// Time of each event.
    pub time: Vec<Timestamp>,
    /// Product of each event.
    pub item: Vec<ProductId>,
    /// Category of each event, when the log has categories (`CategoryId(u32::MAX)` = unknown).
    pub category: Option<Vec<CategoryId>>,
    /// Action of each event (`Dictionary::actions`; fewer than 256 distinct actions).
    pub action: Vec<u8>,
    /// Quantity of each event, when the log has quantities.
    pub quantity: Option<Vec<f32>>,
    /// Unit price of each event, when the log has prices.
    pub price: Option<Vec<f32>>,
}

/// Category id used for "unknown" in a log that otherwise has categories.
pub const UNKNOWN_CATEGORY: CategoryId = CategoryId(u32::MAX);

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of events.
    #[inline]
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether there are no events.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Appends an event. Optional columns are created on first use and back-filled.
    pub fn push(&mut self, e: &Event) {
        let n = self.len();
        self.user.push(e.user);
        self.time.push(e.time);
        self.item.push(e.item);
        self.action
            .push(u8::try_from(e.action.0).unwrap_or(u8::MAX));
        push_opt(&mut self.session, n, e.session, KeyId(u32::MAX));
        push_opt(&mut self.category, n, e.category, UNKNOWN_CATEGORY);
        push_opt(&mut self.quantity, n, e.quantity, f32::NAN);
        push_opt(&mut self.price, n, e.price, f32::NAN);
    }

    /// Event `i` as a row.
    pub fn get(&self, i: usize) -> Event {
        Event {
            user: self.user[i],
            session: self.session.as_ref().map(|s| s[i]),
            time: self.time[i],
            item: self.item[i],
            category: self
                .category
                .as_ref()
                .map(|c| c[i])
                .filter(|c| *c != UNKNOWN_CATEGORY),
            action: ActionId(u32::from(self.action[i])),
            quantity: self.quantity.as_ref().map(|q| q[i]).filter(|q| !q.is_nan()),
            price: self.price.as_ref().map(|p| p[i]).filter(|p| !p.is_nan()),
        }
    }

    /// Event indices ordered by (user, time), stable: events of one user at the same time keep their
    /// input order.
    pub fn order_by_user_time(&self) -> Vec<u32> {
        let mut idx: Vec<u32> = (0..self.len() as u32).collect();
        idx.sort_by_key(|&i| (self.user[i as usize], self.time[i as usize]));
        idx
    }

    /// Heap bytes held (for memory reports).
    pub fn heap_bytes(&self) -> usize {
        self.user.capacity() * 4
            + self.time.capacity() * 8
            + self.item.capacity() * 4
            + self.action.capacity()
            + self.session.as_ref().map_or(0, |v| v.capacity() * 4)
            + self.category.as_ref().map_or(0, |v| v.capacity() * 4)
            + self.quantity.as_ref().map_or(0, |v| v.capacity() * 4)
            + self.price.as_ref().map_or(0, |v| v.capacity() * 4)
    }
}

fn push_opt<T: Copy>(col: &mut Option<Vec<T>>, n: usize, v: Option<T>, missing: T) {
    match (col.as_mut(), v) {
        (Some(c), v) => c.push(v.unwrap_or(missing)),
        (None, Some(v)) => {
            let mut c = Vec::with_capacity(n + 1);
            c.resize(n, missing);
            c.push(v);
            *col = Some(c);
        }
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(user: u32, t: i64, cat: Option<u32>) -> Event {
        Event {
            user: KeyId(user),
            session: None,
            time: Timestamp(t),
            item: ProductId(1),
            category: cat.map(CategoryId),
            action: ActionId(0),
            quantity: None,
            price: None,
        }
    }

    #[test]
    fn optional_columns_backfill() {
        let mut log = EventLog::new();
        log.push(&ev(1, 5, None));
        log.push(&ev(0, 9, Some(3)));
        assert_eq!(log.category.as_ref().unwrap().len(), 2);
        assert_eq!(log.get(0).category, None);
        assert_eq!(log.get(1).category, Some(CategoryId(3)));
        assert!(log.quantity.is_none());
        assert_eq!(log.order_by_user_time(), vec![1, 0]);
    }
}
