//! The UI string table: every text a user sees, in German and English.
//! One struct, two constants: a missing translation is a compile error.

use serde::{Deserialize, Serialize};

/// UI language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    /// Deutsch (default for German system locales).
    #[default]
    De,
    /// English.
    En,
}

impl Lang {
    /// From a system locale like `de-DE` / `en_US.UTF-8`.
    pub fn from_locale(locale: &str) -> Self {
        if locale.to_ascii_lowercase().starts_with("de") {
            Lang::De
        } else {
            Lang::En
        }
    }

    /// The language's own name.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }

    /// The strings of this language.
    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::De => &DE,
            Lang::En => &EN,
        }
    }
}

/// All UI texts.
#[derive(Debug)]
pub struct Strings {
    /// e.g. "geldspur"
    pub app_name: &'static str,
    /// e.g. "File"
    pub menu_file: &'static str,
    /// e.g. "View"
    pub menu_view: &'static str,
    /// e.g. "Open evidence folder…"
    pub open_folder: &'static str,
    /// e.g. "Add files…"
    pub add_files: &'static str,
    /// e.g. "Quit"
    pub quit: &'static str,
    /// e.g. "Language"
    pub language: &'static str,
    /// e.g. "Drop an evidence folder here"
    pub drop_title: &'static str,
    /// e.g. "Drag folders or files into the window. Files are only read, never changed."
    pub drop_sub: &'static str,
    /// e.g. "File dialog not available – please drop the folder into the window."
    pub dialog_unavailable: &'static str,
    /// e.g. "Evidence"
    pub evidence: &'static str,
    /// e.g. "Show only problems"
    pub only_problems: &'static str,
    /// e.g. "Transactions"
    pub transactions: &'static str,
    /// e.g. "Search: name, purpose, IBAN…"
    pub filter_text: &'static str,
    /// e.g. "Date from"
    pub date_from: &'static str,
    /// e.g. "to"
    pub date_to: &'static str,
    /// e.g. "Amount min"
    pub amount_min: &'static str,
    /// e.g. "max"
    pub amount_max: &'static str,
    /// e.g. "All accounts"
    pub all_accounts: &'static str,
    /// e.g. "Filter"
    pub apply_filter: &'static str,
    /// e.g. "Clear filter"
    pub clear_filter: &'static str,
    /// e.g. "Details"
    pub details: &'static str,
    /// e.g. "No row selected."
    pub no_selection: &'static str,
    /// e.g. "Cancel"
    pub cancel: &'static str,
    /// e.g. "Loading"
    pub loading: &'static str,
    /// e.g. "queued"
    pub queued: &'static str,
    /// e.g. "Ingest cancelled; the previous state is kept."
    pub cancelled: &'static str,
    /// e.g. "files"
    pub files: &'static str,
    /// e.g. "rows"
    pub rows: &'static str,
    /// e.g. "/s"
    pub per_second: &'static str,
    /// e.g. "loaded"
    pub status_loaded: &'static str,
    /// e.g. "skipped"
    pub status_skipped: &'static str,
    /// e.g. "failed"
    pub status_failed: &'static str,
    /// e.g. "Booking date"
    pub col_booking_date: &'static str,
    /// e.g. "Value date"
    pub col_value_date: &'static str,
    /// e.g. "Amount"
    pub col_amount: &'static str,
    /// e.g. "Currency"
    pub col_currency: &'static str,
    /// e.g. "Account"
    pub col_account: &'static str,
    /// e.g. "Counterparty"
    pub col_counterparty: &'static str,
    /// e.g. "Purpose"
    pub col_purpose: &'static str,
    /// e.g. "Booking text"
    pub col_booking_text: &'static str,
    /// e.g. "Channel"
    pub col_channel: &'static str,
    /// e.g. "Source"
    pub col_source: &'static str,
    /// e.g. "File"
    pub col_path: &'static str,
    /// e.g. "Format"
    pub col_format: &'static str,
    /// e.g. "Status"
    pub col_status: &'static str,
    /// e.g. "Rows"
    pub col_rows: &'static str,
    /// e.g. "Warnings"
    pub col_warnings: &'static str,
    /// e.g. "Size"
    pub col_size: &'static str,
    /// e.g. "SHA-256"
    pub col_sha: &'static str,
    /// e.g. "Reason"
    pub col_reason: &'static str,
    /// e.g. "Source text"
    pub source_text: &'static str,
    /// e.g. "Evidence file"
    pub evidence_file: &'static str,
    /// e.g. "Location"
    pub locator: &'static str,
    /// e.g. "Mirror of"
    pub mirror_of: &'static str,
    /// e.g. "Copy"
    pub copy: &'static str,
    /// e.g. "files"
    pub summary_files: &'static str,
    /// e.g. "transactions"
    pub summary_transactions: &'static str,
    /// e.g. "accounts"
    pub summary_accounts: &'static str,
    /// e.g. "No evidence loaded yet."
    pub no_evidence: &'static str,
    /// e.g. "shown of"
    pub shown_of: &'static str,
    /// e.g. "errors"
    pub errors: &'static str,
    /// e.g. "warnings"
    pub warnings: &'static str,
    /// e.g. "Dismiss"
    pub dismiss: &'static str,
    /// e.g. "Transaction id"
    pub tx_id: &'static str,
    /// e.g. "Payer"
    pub payer: &'static str,
    /// e.g. "Payee"
    pub payee: &'static str,
    /// e.g. "References"
    pub references: &'static str,
    /// e.g. "Balance after"
    pub balance_after: &'static str,
    /// e.g. "Reversal"
    pub reversal: &'static str,
    /// e.g. "rows could not be read (see the evidence panel)"
    pub rows_not_read: &'static str,
}

/// German texts.
pub const DE: Strings = Strings {
    app_name: "geldspur",
    menu_file: "Datei",
    menu_view: "Ansicht",
    open_folder: "Beweismittelordner öffnen…",
    add_files: "Dateien hinzufügen…",
    quit: "Beenden",
    language: "Sprache",
    drop_title: "Beweismittelordner hier ablegen",
    drop_sub: "Ordner oder Dateien in das Fenster ziehen. Dateien werden nur gelesen, nie verändert.",
    dialog_unavailable: "Dateidialog nicht verfügbar – bitte Ordner in das Fenster ziehen.",
    evidence: "Beweismittel",
    only_problems: "Nur Probleme zeigen",
    transactions: "Umsätze",
    filter_text: "Suche: Name, Zweck, IBAN…",
    date_from: "Datum von",
    date_to: "bis",
    amount_min: "Betrag min",
    amount_max: "max",
    all_accounts: "Alle Konten",
    apply_filter: "Filtern",
    clear_filter: "Filter zurücksetzen",
    details: "Details",
    no_selection: "Keine Zeile ausgewählt.",
    cancel: "Abbrechen",
    loading: "Lade",
    queued: "in Warteschlange",
    cancelled: "Einlesen abgebrochen; bisheriger Stand bleibt erhalten.",
    files: "Dateien",
    rows: "Zeilen",
    per_second: "/s",
    status_loaded: "geladen",
    status_skipped: "übersprungen",
    status_failed: "fehlgeschlagen",
    col_booking_date: "Buchungstag",
    col_value_date: "Wertstellung",
    col_amount: "Betrag",
    col_currency: "Währung",
    col_account: "Konto",
    col_counterparty: "Gegenpartei",
    col_purpose: "Verwendungszweck",
    col_booking_text: "Buchungstext",
    col_channel: "Kanal",
    col_source: "Quelle",
    col_path: "Datei",
    col_format: "Format",
    col_status: "Status",
    col_rows: "Zeilen",
    col_warnings: "Hinweise",
    col_size: "Größe",
    col_sha: "SHA-256",
    col_reason: "Grund",
    source_text: "Quelltext",
    evidence_file: "Beweismitteldatei",
    locator: "Fundstelle",
    mirror_of: "Spiegelbuchung von",
    copy: "Kopieren",
    summary_files: "Dateien",
    summary_transactions: "Umsätze",
    summary_accounts: "Konten",
    no_evidence: "Noch keine Beweismittel geladen.",
    shown_of: "angezeigt von",
    errors: "Fehler",
    warnings: "Hinweise",
    dismiss: "Schließen",
    tx_id: "Umsatz-ID",
    payer: "Zahler",
    payee: "Empfänger",
    references: "Referenzen",
    balance_after: "Saldo danach",
    reversal: "Storno/Rückbuchung",
    rows_not_read: "Zeilen konnten nicht gelesen werden (siehe Beweismittel)",
};

/// English texts.
pub const EN: Strings = Strings {
    app_name: "geldspur",
    menu_file: "File",
    menu_view: "View",
    open_folder: "Open evidence folder…",
    add_files: "Add files…",
    quit: "Quit",
    language: "Language",
    drop_title: "Drop an evidence folder here",
    drop_sub: "Drag folders or files into the window. Files are only read, never changed.",
    dialog_unavailable: "File dialog not available – please drop the folder into the window.",
    evidence: "Evidence",
    only_problems: "Show only problems",
    transactions: "Transactions",
    filter_text: "Search: name, purpose, IBAN…",
    date_from: "Date from",
    date_to: "to",
    amount_min: "Amount min",
    amount_max: "max",
    all_accounts: "All accounts",
    apply_filter: "Filter",
    clear_filter: "Clear filter",
    details: "Details",
    no_selection: "No row selected.",
    cancel: "Cancel",
    loading: "Loading",
    queued: "queued",
    cancelled: "Ingest cancelled; the previous state is kept.",
    files: "files",
    rows: "rows",
    per_second: "/s",
    status_loaded: "loaded",
    status_skipped: "skipped",
    status_failed: "failed",
    col_booking_date: "Booking date",
    col_value_date: "Value date",
    col_amount: "Amount",
    col_currency: "Currency",
    col_account: "Account",
    col_counterparty: "Counterparty",
    col_purpose: "Purpose",
    col_booking_text: "Booking text",
    col_channel: "Channel",
    col_source: "Source",
    col_path: "File",
    col_format: "Format",
    col_status: "Status",
    col_rows: "Rows",
    col_warnings: "Warnings",
    col_size: "Size",
    col_sha: "SHA-256",
    col_reason: "Reason",
    source_text: "Source text",
    evidence_file: "Evidence file",
    locator: "Location",
    mirror_of: "Mirror of",
    copy: "Copy",
    summary_files: "files",
    summary_transactions: "transactions",
    summary_accounts: "accounts",
    no_evidence: "No evidence loaded yet.",
    shown_of: "shown of",
    errors: "errors",
    warnings: "warnings",
    dismiss: "Dismiss",
    tx_id: "Transaction id",
    payer: "Payer",
    payee: "Payee",
    references: "References",
    balance_after: "Balance after",
    reversal: "Reversal",
    rows_not_read: "rows could not be read (see the evidence panel)",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_and_tables() {
        assert_eq!(Lang::from_locale("de-DE"), Lang::De);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::De.strings().open_folder, "Beweismittelordner öffnen…");
        assert_eq!(Lang::En.strings().open_folder, "Open evidence folder…");
    }
}
