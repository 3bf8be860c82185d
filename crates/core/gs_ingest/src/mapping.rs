//! Table mappings: which column of a table layout plays which role. (Owned by the table
//! reader; see `formats::table`.)

use serde::{Deserialize, Serialize};

/// A mapping of table columns to canonical roles, loadable from TOML (`--mapping FILE`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMapping {
    /// Name of the layout (e.g. "Sparkasse CSV-CAMT V2" or "ledger from production order").
    pub name: String,
}
