//! Reader placeholder: being written.

use crate::error::Result;
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};

/// Importer for this format.
#[derive(Debug, Default)]
pub struct CamtImporter;

impl Importer for CamtImporter {
    fn id(&self) -> &'static str {
        "camt"
    }

    fn detect(&self, _file: &SourceFile) -> Option<u8> {
        None
    }

    fn import(&self, _file: &SourceFile, _ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        Err(crate::error::IngestError::malformed("camt", "reader not implemented yet"))
    }
}
