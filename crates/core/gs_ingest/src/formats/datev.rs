//! Reader placeholder: being written.

use crate::error::Result;
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};

/// Importer for this format.
#[derive(Debug, Default)]
pub struct DatevImporter;

impl Importer for DatevImporter {
    fn id(&self) -> &'static str {
        "datev"
    }

    fn detect(&self, _file: &SourceFile) -> Option<u8> {
        None
    }

    fn import(&self, _file: &SourceFile, _ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        Err(crate::error::IngestError::malformed("datev", "reader not implemented yet"))
    }
}
