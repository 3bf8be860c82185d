//! Reader placeholder: being written.

use crate::error::Result;
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};

/// Importer for this format.
#[derive(Debug, Default)]
pub struct OfxImporter;

impl Importer for OfxImporter {
    fn id(&self) -> &'static str {
        "ofx"
    }

    fn detect(&self, _file: &SourceFile) -> Option<u8> {
        None
    }

    fn import(&self, _file: &SourceFile, _ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        Err(crate::error::IngestError::malformed("ofx", "reader not implemented yet"))
    }
}
