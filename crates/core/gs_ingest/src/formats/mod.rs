//! One module per evidence format. Each implements [`crate::importer::Importer`].

pub mod bank_csv;
pub mod camt;
pub mod datev;
pub mod mt940;
pub mod ofx;
pub mod pdf;
pub mod table;

use crate::importer::Importer;

/// All importers, in tie-break order (more specific formats first).
pub fn registry() -> Vec<Box<dyn Importer>> {
    vec![
        Box::new(mt940::Mt940Importer),
        Box::new(camt::CamtImporter),
        Box::new(datev::DatevImporter),
        Box::new(ofx::OfxImporter),
        Box::new(bank_csv::BankCsvImporter),
        Box::new(pdf::PdfImporter),
        Box::new(table::TableImporter),
    ]
}
