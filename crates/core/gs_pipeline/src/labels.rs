//! Investigator decisions given to `analyze` as a labels file, until the case store keeps them.
//!
//! CSV (UTF-8, `,` or `;`), one decision per line, header optional, `#` starts a comment:
//!
//! ```text
//! kind,id,label
//! party,P-2eb34c604fb0,suspicious
//! party,DE89370400440532013000,cleared
//! transaction,6c1f0e1a9d2b44e7,suspicious
//! ```
//!
//! `kind` is `party` (id = the party uid from `parties.csv`, or one of its IBANs / account
//! numbers) or `transaction` (id = `tx_id`). `label` is `suspicious` / `verdächtig` / `1` or
//! `cleared` / `unverdächtig` / `entlastet` / `0`. A later line for the same id wins. Unknown
//! kinds or labels are errors naming the line: a decision must never be dropped silently.

use std::collections::BTreeMap;
use std::path::Path;

/// Decisions by id: `true` = suspicious, `false` = cleared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelFile {
    /// Party uid, IBAN or account number → label.
    pub parties: BTreeMap<String, bool>,
    /// Transaction id → label.
    pub transactions: BTreeMap<String, bool>,
}

impl LabelFile {
    /// Whether there is no decision.
    pub fn is_empty(&self) -> bool {
        self.parties.is_empty() && self.transactions.is_empty()
    }

    /// Reads a labels file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read labels file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{} — {}", e, path.display()))
    }

    /// Parses the text of a labels file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = Self::default();
        for (n, raw) in text.lines().enumerate() {
            let line = raw
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_start_matches('\u{feff}');
            if line.is_empty() {
                continue;
            }
            let cells: Vec<&str> = line
                .split([',', ';'])
                .map(|c| c.trim().trim_matches('"').trim())
                .collect();
            if n == 0
                && cells
                    .first()
                    .is_some_and(|c| c.eq_ignore_ascii_case("kind"))
            {
                continue;
            }
            let [kind, id, label] = cells.as_slice() else {
                return Err(format!(
                    "line {}: expected kind,id,label, found {} fields",
                    n + 1,
                    cells.len()
                ));
            };
            if id.is_empty() {
                return Err(format!("line {}: empty id", n + 1));
            }
            let value = match label.to_lowercase().as_str() {
                "suspicious" | "verdächtig" | "verdaechtig" | "1" | "true" => true,
                "cleared" | "unverdächtig" | "unverdaechtig" | "entlastet" | "0" | "false" => {
                    false
                }
                other => {
                    return Err(format!(
                        "line {}: unknown label '{other}' (suspicious or cleared)",
                        n + 1
                    ));
                }
            };
            let map = match kind.to_lowercase().as_str() {
                "party" | "partei" | "konto" | "account" => &mut out.parties,
                "transaction" | "tx" | "umsatz" | "buchung" => &mut out.transactions,
                other => {
                    return Err(format!(
                        "line {}: unknown kind '{other}' (party or transaction)",
                        n + 1
                    ));
                }
            };
            // IBANs are often written in groups of four: drop inner spaces
            map.insert(id.split_whitespace().collect(), value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decisions_and_refuses_what_it_cannot_read() {
        let l = LabelFile::parse(
            "kind,id,label\nparty,P-2eb34c604fb0,suspicious\nparty;DE89 3704 0044 0532 0130 00;entlastet # checked\n\n# note\ntransaction,6c1f,1\ntransaction,6c1f,cleared\n",
        )
        .unwrap();
        assert_eq!(l.parties.get("P-2eb34c604fb0"), Some(&true));
        assert_eq!(l.parties.get("DE89370400440532013000"), Some(&false));
        assert_eq!(
            l.transactions.get("6c1f"),
            Some(&false),
            "the later line wins"
        );
        let e = LabelFile::parse("party,X,maybe\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("maybe"), "{e}");
        let e = LabelFile::parse("kind,id,label\nfoo,X,1\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("foo"), "{e}");
        assert!(LabelFile::parse("party,X\n").is_err());
        assert!(LabelFile::parse("").unwrap().is_empty());
    }
}
