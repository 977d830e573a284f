//! Enums of the library that have a name on the command line and in files (`purchase`, `time`,
//! `action-category`, `csv`): one macro gives each its `NAMES`, `name()`, `FromStr` and `Display`, so
//! the CLI parses them with [`parse_named`] without the library depending on clap.

/// Implements `NAMES`, `name()`, `FromStr` (error lists the accepted names) and `Display` for a
/// fieldless enum from `"name" => Variant` pairs.
#[macro_export]
macro_rules! named_enum {
    ($t:ty, $what:literal, [$($name:literal => $v:expr),+ $(,)?]) => {
        impl $t {
            /// Every accepted name, in documentation order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name used on the command line and in files.
            pub fn name(self) -> &'static str {
                $(if self == $v { return $name; })+
                ""
            }
        }

        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok($v),)+
                    _ => Err(format!(concat!($what, " ({}), found {:?}"), Self::NAMES.join(", "), s)),
                }
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
