//! The event model: one row of a behaviour log, with every name already interned.

use serde::{Deserialize, Serialize};

use crate::ids::{ActionId, CategoryId, KeyId, ProductId};

/// Milliseconds since the Unix epoch (UTC). Logs in seconds are scaled on reading; SPMF `<t>` stamps are
/// kept as the raw integers they are (their unit is unknown).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// From Unix seconds.
    pub fn from_secs(s: i64) -> Self {
        Timestamp(s.saturating_mul(1000))
    }

    /// Whole seconds since the epoch (floored).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
}

/// The actions cartseq knows by name. Logs map their own spellings onto these (Taobao `pv` → `View`,
/// RetailRocket `addtocart` → `CartAdd`, Tianchi `3` → `CartAdd`, …); anything else is `Custom`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A product page view or click.
    View,
    /// A search.
    Search,
    /// Added to the cart.
    CartAdd,
    /// Removed from the cart.
    CartRemove,
    /// Cart quantity changed.
    CartModify,
    /// Added to favourites / wish list.
    Fav,
    /// Bought.
    Buy,
    /// Returned or cancelled after buying.
    Return,
}

impl Action {
    /// Every named action, in funnel order.
    pub const ALL: [Action; 8] = [
        Action::View,
        Action::Search,
        Action::CartAdd,
        Action::CartRemove,
        Action::CartModify,
        Action::Fav,
        Action::Buy,
        Action::Return,
    ];
}

// The canonical names used in dictionaries and tokens.
crate::named_enum!(Action, "an action", [
    "view" => Action::View,
    "search" => Action::Search,
    "cart_add" => Action::CartAdd,
    "cart_remove" => Action::CartRemove,
    "cart_modify" => Action::CartModify,
    "fav" => Action::Fav,
    "buy" => Action::Buy,
    "return" => Action::Return,
]);

/// Maps an action spelling used by public logs to a canonical [`Action`]; `None` for a custom name.
pub fn canonical_action(raw: &str) -> Option<Action> {
    let mut buf = [0u8; 24];
    let b = raw.trim().as_bytes();
    if b.len() > buf.len() {
        return None;
    }
    let mut n = 0;
    for &c in b {
        if c != b'_' && c != b'-' && c != b' ' {
            buf[n] = c.to_ascii_lowercase();
            n += 1;
        }
    }
    Some(match &buf[..n] {
        b"view" | b"pv" | b"click" | b"clicks" | b"detail" | b"pageview" | b"productview"
        | b"itemview" | b"views" => Action::View,
        b"search" | b"query" => Action::Search,
        b"cart" | b"cartadd" | b"addtocart" | b"addcart" | b"addtobasket" | b"basket" => {
            Action::CartAdd
        }
        b"cartremove" | b"removefromcart" | b"removecart" | b"removefrombasket" => {
            Action::CartRemove
        }
        b"cartmodify" | b"cartupdate" | b"updatecart" => Action::CartModify,
        b"fav" | b"favorite" | b"favourite" | b"wishlist" | b"collect" | b"like" => Action::Fav,
        b"buy" | b"purchase" | b"transaction" | b"order" | b"checkout" | b"sale" => Action::Buy,
        b"return" | b"refund" | b"cancel" | b"cancellation" => Action::Return,
        _ => return None,
    })
}

/// One event of a behaviour log. Names are ids into the reader's [`crate::Dictionary`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// The user, in [`crate::Dictionary::users`] (for session-only logs such as Yoochoose, the session key
    /// doubles as the user).
    pub user: KeyId,
    /// The session, in [`crate::Dictionary::sessions`], when the log has one.
    pub session: Option<KeyId>,
    /// When it happened.
    pub time: Timestamp,
    /// The product.
    pub item: ProductId,
    /// The product's category, when known.
    pub category: Option<CategoryId>,
    /// What the user did.
    pub action: ActionId,
    /// Quantity (Online Retail; negative for returns), when known.
    pub quantity: Option<f32>,
    /// Unit price, when known.
    pub price: Option<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_actions() {
        assert_eq!(canonical_action("addtocart"), Some(Action::CartAdd));
        assert_eq!(canonical_action("Add_To_Cart"), Some(Action::CartAdd));
        assert_eq!(canonical_action("pv"), Some(Action::View));
        assert_eq!(canonical_action("share"), None);
    }

    #[test]
    fn every_action_has_one_name_and_back() {
        assert_eq!(Action::NAMES.len(), Action::ALL.len());
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
            assert_eq!(a.to_string().parse::<Action>(), Ok(a));
        }
        assert_eq!(Action::from_name("cart"), None);
    }
}
