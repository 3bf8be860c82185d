//! Deriving the payment channel from GVC, ISO BkTxCd and booking text.
//!
//! Last, a few unambiguous compound words in the purpose or the counterparty name.
//!
//! GVC = German "Geschäftsvorfallcode" (DFÜ-Abkommen, Anlage 3); BkTxCd = ISO 20022 bank
//! transaction code `Domain/Family/SubFamily`. The order is: exact code first, then words of the
//! booking text, then of the purpose. Unknown stays Unknown: we never guess from amounts.

use gs_types::{Channel, Transaction};

/// GVC (3 digits) to channel.
pub fn from_gvc(gvc: &str) -> Option<Channel> {
    let code = gvc.trim();
    Some(match code {
        "082" => Channel::CashDeposit,
        "083" => Channel::CashWithdrawal,
        "106" => Channel::Card,
        "004" | "005" | "104" | "105" | "107" | "108" | "109" | "171" | "174" | "181" | "184" => {
            Channel::DirectDebit
        }
        "008" | "117" | "152" => Channel::StandingOrder,
        "020" | "051" | "052" | "053" | "116" | "118" | "153" | "159" | "166" | "169" | "177"
        | "201" | "202" => Channel::Transfer,
        "805" | "806" | "807" | "808" | "809" | "810" | "814" => Channel::Fee,
        _ => return None,
    })
}

/// ISO 20022 `Domain/Family/SubFamily` (any separator) to channel.
pub fn from_bank_tx_code(code: &str) -> Option<Channel> {
    let parts: Vec<&str> = code
        .split(['/', '-', '+', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    // Proprietary German form "NTRF+166+…": the GVC follows the first '+'.
    if let Some(gvc) = parts
        .iter()
        .find(|p| p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()))
    {
        return from_gvc(gvc);
    }
    let fam = parts.get(1).copied().unwrap_or("");
    let sub = parts.get(2).copied().unwrap_or("");
    Some(match (fam, sub) {
        (_, "CDPT") => Channel::CashDeposit,
        (_, "CWDL") => Channel::CashWithdrawal,
        ("CCRD" | "DCRD" | "POSD", _) | (_, "POSD" | "POSP") => Channel::Card,
        ("RDDT" | "IDDT", _) => Channel::DirectDebit,
        (_, "STDO") => Channel::StandingOrder,
        ("RCDT" | "ICDT" | "RRCT" | "IRCT", _) => Channel::Transfer,
        (_, "CHRG" | "FEES" | "INTR" | "COMM") | ("CHRG" | "INTR", _) => Channel::Fee,
        // Counter transactions (CNTR) without CDPT/CWDL and unknown families: no claim.
        _ => return None,
    })
}

/// Keywords in booking text / purpose (lower case) to channel, most specific first.
pub fn from_text(text: &str) -> Option<Channel> {
    let t = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&[
        "bareinzahlung",
        "einzahlung",
        "cash deposit",
        "bargeldeinzahlung",
    ]) {
        return Some(Channel::CashDeposit);
    }
    if has(&[
        "bargeldauszahlung",
        "auszahlung",
        "geldautomat",
        "atm ",
        "cash withdrawal",
        "barauszahlung",
        "bargeld",
    ]) {
        return Some(Channel::CashWithdrawal);
    }
    if has(&[
        "kartenzahlung",
        "girocard",
        "debitkarte",
        "kreditkarte",
        "ec-karte",
        "kartenumsatz",
        "card payment",
        "pos ",
    ]) {
        return Some(Channel::Card);
    }
    if has(&["dauerauftrag", "standing order"]) {
        return Some(Channel::StandingOrder);
    }
    if has(&["lastschrift", "einzug", "direct debit", "abbuchung"]) {
        return Some(Channel::DirectDebit);
    }
    if has(&[
        "entgelt",
        "gebühr",
        "gebuehr",
        "abschluss",
        "kontoführung",
        "kontofuehrung",
        "zinsen",
        "fee",
        "charge",
    ]) {
        return Some(Channel::Fee);
    }
    if has(&[
        "überweisung",
        "ueberweisung",
        "gutschrift",
        "lohn",
        "gehalt",
        "transfer",
        "echtzeit",
    ]) {
        return Some(Channel::Transfer);
    }
    None
}

/// The channel for a transaction whose importer left it Unknown.
pub fn derive(tx: &Transaction) -> Channel {
    match from_code_or_text(tx) {
        Channel::Unknown => from_purpose_or_name(tx),
        ch => ch,
    }
}

/// The importer's channel, else the code, else the booking text (depends on these only, so
/// the result can be cached per (code, booking text)).
pub fn from_code_or_text(tx: &Transaction) -> Channel {
    if tx.channel != Channel::Unknown {
        return tx.channel;
    }
    if let Some(code) = tx.tx_code.as_deref() {
        let c = code.trim();
        let by_code = if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_digit()) {
            from_gvc(c)
        } else {
            from_bank_tx_code(c)
        };
        if let Some(ch) = by_code {
            return ch;
        }
    }
    if let Some(ch) = tx.booking_text.as_deref().and_then(from_text) {
        return ch;
    }
    Channel::Unknown
}

/// Unambiguous words in the purpose or the counterparty name (some exports, e.g. DKB, put
/// "Bargeldeinzahlung" in the payer column and leave the booking text generic): only
/// compound words that cannot describe a transfer ("Einzahlung auf Bausparvertrag" is a
/// transfer, so the bare word "einzahlung" is not used here).
pub fn from_purpose_or_name(tx: &Transaction) -> Channel {
    const STRICT: &[(&str, Channel)] = &[
        ("bargeldeinzahlung", Channel::CashDeposit),
        ("bareinzahlung", Channel::CashDeposit),
        ("bargeldauszahlung", Channel::CashWithdrawal),
        ("barauszahlung", Channel::CashWithdrawal),
        ("geldautomat", Channel::CashWithdrawal),
        ("kartenzahlung", Channel::Card),
        ("dauerauftrag", Channel::StandingOrder),
        ("lastschrift", Channel::DirectDebit),
    ];
    for text in [tx.purpose.as_deref(), tx.counterparty.name.as_deref()]
        .into_iter()
        .flatten()
    {
        let t = text.to_lowercase();
        if let Some((_, ch)) = STRICT.iter().find(|(w, _)| t.contains(w)) {
            return *ch;
        }
    }
    Channel::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_words() {
        assert_eq!(from_gvc("082"), Some(Channel::CashDeposit));
        assert_eq!(from_gvc("166"), Some(Channel::Transfer));
        assert_eq!(from_gvc("999"), None);
        let mut t = Transaction {
            booking_text: Some("Eingang".into()),
            purpose: Some("Bareinzahlung".into()),
            ..Default::default()
        };
        assert_eq!(derive(&t), Channel::CashDeposit);
        t.purpose = Some("Einzahlung auf Bausparvertrag".into());
        assert_eq!(derive(&t), Channel::Unknown);
        t.counterparty.name = Some("Bargeldeinzahlung".into());
        assert_eq!(derive(&t), Channel::CashDeposit);
        assert_eq!(
            from_bank_tx_code("PMNT/CNTR/CDPT"),
            Some(Channel::CashDeposit)
        );
        assert_eq!(from_bank_tx_code("PMNT/RCDT/ESCT"), Some(Channel::Transfer));
        assert_eq!(
            from_bank_tx_code("PMNT/IDDT/ESDD"),
            Some(Channel::DirectDebit)
        );
        assert_eq!(
            from_bank_tx_code("PMNT/ICDT/STDO"),
            Some(Channel::StandingOrder)
        );
        assert_eq!(from_bank_tx_code("NTRF+166+9310"), Some(Channel::Transfer));
        assert_eq!(
            from_text("Bargeldauszahlung GA 1234"),
            Some(Channel::CashWithdrawal)
        );
        assert_eq!(from_text("SEPA-Überweisung"), Some(Channel::Transfer));
        assert_eq!(from_text("Kartenzahlung girocard"), Some(Channel::Card));
        assert_eq!(from_text("Kontoführungsentgelt"), Some(Channel::Fee));
        assert_eq!(from_text("irgendwas"), None);
    }

    #[test]
    fn derive_prefers_code() {
        let t = Transaction {
            tx_code: Some("083".into()),
            booking_text: Some("Überweisung".into()),
            ..Default::default()
        };
        assert_eq!(derive(&t), Channel::CashWithdrawal);
        let u = Transaction {
            booking_text: Some("Dauerauftrag".into()),
            ..Default::default()
        };
        assert_eq!(derive(&u), Channel::StandingOrder);
    }
}
