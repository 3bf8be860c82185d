//! geldspur UI kit: language and string table, number/date formatting per language, theme
//! tokens. Views take colours and texts from here, never hard-code them.

pub mod format;
pub mod i18n;
pub mod theme;

pub use i18n::{Lang, Strings};
