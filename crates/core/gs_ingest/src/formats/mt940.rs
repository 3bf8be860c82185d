//! Reader placeholder: being written.

use crate::error::Result;
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};

/// Importer for this format.
#[derive(Debug, Default)]
pub struct Mt940Importer;

impl Importer for Mt940Importer {
    fn id(&self) -> &'static str {
        "mt940"
    }

    fn detect(&self, _file: &SourceFile) -> Option<u8> {
        None
    }

    fn import(&self, _file: &SourceFile, _ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        Err(crate::error::IngestError::malformed("mt940", "reader not implemented yet"))
    }
}
