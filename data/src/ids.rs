//! Dense integer ids for every vocabulary, as newtypes so an item id can never be used as a category id.
//!
//! All ids are `u32`: four bytes per item in the flat [`crate::SequenceDb`] array, and room for four
//! billion distinct names, far beyond any public e-commerce log.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as an index into a dense array.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl From<u32> for $name {
            #[inline]
            fn from(v: u32) -> Self {
                $name(v)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A symbol of a [`crate::SequenceDb`]: what the miners see as an "item". Depending on the chosen token
    /// it stands for a product, a category, an action or an `action:product` pair; the dictionary's token
    /// vocabulary names it. For SPMF and numeric basket input it is the original item number itself.
    ItemId
);
id_type!(
    /// A product (the `item` column of a log), interned in [`crate::Dictionary::products`].
    ProductId
);
id_type!(
    /// A product category, interned in [`crate::Dictionary::categories`].
    CategoryId
);
id_type!(
    /// An action name (view, cart_add, buy, …), interned in [`crate::Dictionary::actions`].
    ActionId
);
id_type!(
    /// A user or session key, interned in [`crate::Dictionary::users`] or [`crate::Dictionary::sessions`].
    KeyId
);
