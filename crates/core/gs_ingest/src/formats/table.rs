//! Reader placeholder: being written.

use crate::error::Result;
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};

/// Importer for this format.
#[derive(Debug, Default)]
pub struct TableImporter;

impl Importer for TableImporter {
    fn id(&self) -> &'static str {
        "table"
    }

    fn detect(&self, _file: &SourceFile) -> Option<u8> {
        None
    }

    fn import(&self, _file: &SourceFile, _ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        Err(crate::error::IngestError::malformed("table", "reader not implemented yet"))
    }
}
