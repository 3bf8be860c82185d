//! PDF bank statements ("Kontoauszug") with a text layer.
//!
//! Reading happens in three layers:
//! 1. **Glyphs with positions** — pdf-extract's [`OutputDev`] gives every character with its
//!    text rendering matrix (it knows fonts, ToUnicode maps and encodings). pdf-extract ignores
//!    the `'` and `"` operators, so each page is also walked with lopdf's content parser and a
//!    small text-state machine; per page the source with more characters wins.
//! 2. **Lines and cells** — glyphs are grouped into lines (same page, baseline within a
//!    tolerance), sorted by x, and split into cells at gaps wider than about 1.5 space widths.
//!    Positions are kept because separate debit/credit columns can only be told apart by x.
//! 3. **Statement parsing** — a booking starts on a line whose first cell is a date; lines
//!    below it in the text column belong to it. Header lines give the account, balances and
//!    the statement number.
//!
//! Both libraries run inside `catch_unwind`: pdf-extract panics on many malformed files.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{Datelike, NaiveDate};
use gs_types::{DecimalSeparator, Iban, Locator, Money, PartyRef, Transaction};
use lopdf::{Document, Object, ObjectId};
use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use crate::error::{IngestError, Result};
use crate::importer::panic_message;
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile, StatementSummary};

const FORMAT: &str = "PDF";
const FORMAT_NAME: &str = "PDF statement";

/// Importer for PDF bank statements with a text layer.
#[derive(Debug, Default)]
pub struct PdfImporter;

impl Importer for PdfImporter {
    fn id(&self) -> &'static str {
        "pdf"
    }

    fn detect(&self, file: &SourceFile) -> Option<u8> {
        let head = file.bytes.get(..file.bytes.len().min(1024))?;
        find(head, b"%PDF-").map(|_| 90)
    }

    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        let pages = extract_pages(&file.bytes, ctx)?;
        let mut out = ImportOutput::new(FORMAT_NAME);
        out.format_version = Some(pages.version.clone());
        for note in &pages.notes {
            out.info(note.0.clone(), note.1.clone());
        }
        for w in &pages.warnings {
            out.warn(w.0.clone(), w.1.clone());
        }
        parse_statements(&pages.lines, &mut out, ctx)?;
        if out.transactions.is_empty() {
            out.info(
                None,
                "no transactions found: the PDF's text was read but no booking lines (a date first, an amount last) were recognised",
            );
        }
        Ok(out)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Layer 1: glyphs
// ---------------------------------------------------------------------------------------------

/// One character on a page in PDF user space (y grows upwards).
#[derive(Clone, Copy, Debug)]
struct Glyph {
    x: f32,
    y: f32,
    /// Advance width in user space.
    w: f32,
    /// Font size in user space.
    size: f32,
    ch: char,
}

/// Pushes the characters of one glyph. `dir` is the text direction (`m11`, `m12` of the text
/// matrix): positions are rotated into reading coordinates so that rotated pages (landscape
/// tables printed sideways) read like upright ones.
fn push_glyphs(
    out: &mut Vec<Glyph>,
    text: &str,
    pos: (f64, f64),
    dir: (f64, f64),
    w: f64,
    size: f64,
) {
    let (x, y) = pos;
    let len = dir.0.hypot(dir.1);
    let (cos, sin) = if len > 0.0 && len.is_finite() {
        (dir.0 / len, dir.1 / len)
    } else {
        (1.0, 0.0)
    };
    let (x, y) = (x * cos + y * sin, -x * sin + y * cos);
    if !(x.is_finite() && y.is_finite() && w.is_finite() && size.is_finite()) {
        return;
    }
    let n = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .count();
    if n == 0 {
        return;
    }
    // Ligatures ("fi") come as one glyph with several characters: share its width.
    #[allow(clippy::cast_precision_loss)]
    let each = w / n as f64;
    let mut cx = x;
    for ch in text.chars().filter(|c| !c.is_control() || *c == '\t') {
        let ch = if ch == '\t' || ch == '\u{a0}' {
            ' '
        } else {
            ch
        };
        #[allow(clippy::cast_possible_truncation)]
        out.push(Glyph {
            x: cx as f32,
            y: y as f32,
            w: each as f32,
            size: size.abs() as f32,
            ch,
        });
        cx += each;
    }
}

/// Collects pdf-extract's characters for one page.
#[derive(Default)]
struct Collector {
    glyphs: Vec<Glyph>,
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page: u32,
        _media: &MediaBox,
        _art: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        let sx = trm.m11.hypot(trm.m12);
        let sy = trm.m21.hypot(trm.m22);
        push_glyphs(
            &mut self.glyphs,
            char,
            (trm.m31, trm.m32),
            (trm.m11, trm.m12),
            width * font_size * sx,
            font_size * sy,
        );
        Ok(())
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Helvetica advance widths (1/1000 em) for ASCII 32..=126; used when a font has no `/Widths`
/// (the standard 14 fonts). Other characters get 556.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 32..47
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 48..63
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 64..79
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 80..95
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 96..111
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 112..126
];

/// What the content walker needs to know about a font.
struct FontInfo {
    /// Character for each byte (simple fonts).
    table: Option<Box<[Option<char>; 256]>>,
    /// Two-byte fonts (Type0): decoded per string through lopdf's ToUnicode support.
    two_byte: bool,
    first_char: i64,
    widths: Vec<f32>,
    /// Fixed pitch (Courier) when the font has no widths.
    monospace: bool,
}

impl FontInfo {
    fn width(&self, code: u32, ch: char) -> f32 {
        if let Some(w) = i64::from(code)
            .checked_sub(self.first_char)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.widths.get(i))
            && *w > 0.0
        {
            return *w / 1000.0;
        }
        if self.monospace {
            return 0.6;
        }
        let c = ch as u32;
        let w = c
            .checked_sub(32)
            .and_then(|i| HELVETICA_WIDTHS.get(i as usize))
            .copied()
            .unwrap_or(556);
        f32::from(w) / 1000.0
    }
}

fn font_info(doc: &Document, dict: &lopdf::Dictionary) -> FontInfo {
    let subtype = dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .unwrap_or(b"");
    let base = dict
        .get(b"BaseFont")
        .and_then(Object::as_name)
        .unwrap_or(b"");
    let monospace = find(base, b"Courier").is_some();
    let first_char = dict.get(b"FirstChar").and_then(Object::as_i64).unwrap_or(0);
    let widths = dict
        .get_deref(b"Widths", doc)
        .and_then(Object::as_array)
        .map(|a| {
            a.iter()
                .map(|o| {
                    doc.dereference(o)
                        .ok()
                        .and_then(|(_, o)| o.as_float().ok())
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .unwrap_or_default();
    let two_byte = subtype == b"Type0";
    let table = if two_byte {
        None
    } else {
        let enc = dict.get_font_encoding(doc).ok();
        let mut t: Box<[Option<char>; 256]> = Box::new([None; 256]);
        for (b, slot) in (0u8..=255).zip(t.iter_mut()) {
            *slot = match &enc {
                Some(e) => e.bytes_to_string(&[b]).ok().and_then(|s| s.chars().next()),
                None => None,
            }
            .or_else(|| {
                // Without a usable encoding, Latin-1 is the least wrong guess for text bytes.
                (b >= 32).then(|| char::from(b))
            });
        }
        Some(t)
    };
    FontInfo {
        table,
        two_byte,
        first_char,
        widths: if two_byte { Vec::new() } else { widths },
        monospace,
    }
}

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a × b` in PDF's row-vector convention.
fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn num(o: Option<&Object>) -> f64 {
    o.and_then(|o| o.as_float().ok()).map_or(0.0, f64::from)
}

/// Text state of the content walker.
struct TextState {
    tm: Matrix,
    tlm: Matrix,
    font: Option<Vec<u8>>,
    size: f64,
    leading: f64,
    char_spacing: f64,
    word_spacing: f64,
    h_scale: f64,
    rise: f64,
}

impl Default for TextState {
    fn default() -> Self {
        Self {
            tm: IDENTITY,
            tlm: IDENTITY,
            font: None,
            size: 0.0,
            leading: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            h_scale: 1.0,
            rise: 0.0,
        }
    }
}

impl TextState {
    fn next_line(&mut self, tx: f64, ty: f64) {
        self.tlm = mul(&[1.0, 0.0, 0.0, 1.0, tx, ty], &self.tlm);
        self.tm = self.tlm;
    }
}

/// Walks a page's content with lopdf (covers `'` and `"`, which pdf-extract skips).
fn walk_page(doc: &Document, page_id: ObjectId) -> std::result::Result<Vec<Glyph>, String> {
    let content = doc.get_page_content(page_id).map_err(|e| e.to_string())?;
    let ops = lopdf::content::Content::decode(&content).map_err(|e| e.to_string())?;
    let font_dicts = doc.get_page_fonts(page_id).unwrap_or_default();
    let mut fonts: BTreeMap<Vec<u8>, FontInfo> = BTreeMap::new();
    let mut glyphs = Vec::new();
    let mut ctm = IDENTITY;
    let mut stack: Vec<Matrix> = Vec::new();
    let mut ts = TextState::default();
    for op in &ops.operations {
        let a = &op.operands;
        match op.operator.as_str() {
            // Bounded: hostile content may push without end.
            "q" if stack.len() < 256 => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(IDENTITY),
            "cm" if a.len() == 6 => {
                let m = [
                    num(a.first()),
                    num(a.get(1)),
                    num(a.get(2)),
                    num(a.get(3)),
                    num(a.get(4)),
                    num(a.get(5)),
                ];
                ctm = mul(&m, &ctm);
            }
            "BT" => {
                ts.tm = IDENTITY;
                ts.tlm = IDENTITY;
            }
            "Tf" => {
                ts.font = a.first().and_then(|o| o.as_name().ok()).map(<[u8]>::to_vec);
                ts.size = num(a.get(1));
                if let Some(name) = &ts.font
                    && !fonts.contains_key(name)
                    && let Some(d) = font_dicts.get(name)
                {
                    fonts.insert(name.clone(), font_info(doc, d));
                }
            }
            "TL" => ts.leading = num(a.first()),
            "Tc" => ts.char_spacing = num(a.first()),
            "Tw" => ts.word_spacing = num(a.first()),
            "Tz" => ts.h_scale = num(a.first()) / 100.0,
            "Ts" => ts.rise = num(a.first()),
            "Td" => ts.next_line(num(a.first()), num(a.get(1))),
            "TD" => {
                ts.leading = -num(a.get(1));
                ts.next_line(num(a.first()), num(a.get(1)));
            }
            "Tm" if a.len() == 6 => {
                ts.tlm = [
                    num(a.first()),
                    num(a.get(1)),
                    num(a.get(2)),
                    num(a.get(3)),
                    num(a.get(4)),
                    num(a.get(5)),
                ];
                ts.tm = ts.tlm;
            }
            "T*" => ts.next_line(0.0, -ts.leading),
            "Tj" => show(&mut ts, &ctm, &fonts, a.first(), &mut glyphs),
            "'" => {
                ts.next_line(0.0, -ts.leading);
                show(&mut ts, &ctm, &fonts, a.first(), &mut glyphs);
            }
            "\"" => {
                ts.word_spacing = num(a.first());
                ts.char_spacing = num(a.get(1));
                ts.next_line(0.0, -ts.leading);
                show(&mut ts, &ctm, &fonts, a.get(2), &mut glyphs);
            }
            "TJ" => {
                if let Some(Object::Array(items)) = a.first() {
                    for it in items {
                        match it {
                            Object::String(..) => {
                                show(&mut ts, &ctm, &fonts, Some(it), &mut glyphs);
                            }
                            other => {
                                let adj = num(Some(other));
                                let tx = -adj / 1000.0 * ts.size * ts.h_scale;
                                ts.tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], &ts.tm);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(glyphs)
}

fn show(
    ts: &mut TextState,
    ctm: &Matrix,
    fonts: &BTreeMap<Vec<u8>, FontInfo>,
    s: Option<&Object>,
    out: &mut Vec<Glyph>,
) {
    let Some(Object::String(bytes, _)) = s else {
        return;
    };
    let font = ts.font.as_ref().and_then(|f| fonts.get(f));
    let mut emit = |ts: &mut TextState, code: u32, ch: Option<char>, is_space: bool| {
        let w0 = f64::from(font.map_or(0.5, |f| f.width(code, ch.unwrap_or(' '))));
        let trm = mul(
            &[ts.size * ts.h_scale, 0.0, 0.0, ts.size, 0.0, ts.rise],
            &mul(&ts.tm, ctm),
        );
        let m = mul(&ts.tm, ctm);
        let sx = m[0].hypot(m[1]);
        let sy = m[2].hypot(m[3]);
        if let Some(c) = ch {
            let mut buf = [0u8; 4];
            push_glyphs(
                out,
                c.encode_utf8(&mut buf),
                (trm[4], trm[5]),
                (m[0], m[1]),
                w0 * ts.size * ts.h_scale * sx,
                ts.size * sy,
            );
        }
        let mut tx = w0 * ts.size + ts.char_spacing;
        if is_space {
            tx += ts.word_spacing;
        }
        tx *= ts.h_scale;
        ts.tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], &ts.tm);
    };
    match font {
        // Type0 (CID) fonts map codes to glyph ids; only their ToUnicode map (which
        // pdf-extract reads) gives text. Emitting guesses here could out-count pdf-extract's
        // correct text, so the walk leaves them out.
        Some(f) if f.two_byte => {}
        Some(f) => {
            for &b in bytes {
                let ch = f
                    .table
                    .as_ref()
                    .and_then(|t| t.get(usize::from(b)).copied().flatten());
                emit(ts, u32::from(b), ch, b == 32);
            }
        }
        None => {
            for &b in bytes {
                emit(ts, u32::from(b), (b >= 32).then(|| char::from(b)), b == 32);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Layer 2: lines and cells
// ---------------------------------------------------------------------------------------------

/// A cell: characters of one line without a wide gap.
#[derive(Clone, Debug)]
struct Cell {
    x0: f32,
    x1: f32,
    text: String,
}

/// A reconstructed text line.
#[derive(Clone, Debug)]
struct Line {
    page: u32,
    /// 1-based line on the page, top to bottom.
    number: u32,
    y: f32,
    size: f32,
    cells: Vec<Cell>,
}

impl Line {
    fn text(&self) -> String {
        let mut s = String::new();
        for (i, c) in self.cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(&c.text);
        }
        s
    }
    fn x0(&self) -> f32 {
        self.cells.first().map_or(0.0, |c| c.x0)
    }
}

fn build_lines(page: u32, mut glyphs: Vec<Glyph>) -> Vec<Line> {
    glyphs.retain(|g| g.size > 0.0 && g.size < 1000.0 && g.x.is_finite() && g.y.is_finite());
    glyphs.sort_by(|a, b| b.y.total_cmp(&a.y));
    let mut lines: Vec<Line> = Vec::new();
    let mut start = 0;
    while start < glyphs.len() {
        let top = glyphs[start];
        let tol = (top.size * 0.45).max(1.0);
        let mut end = start + 1;
        while end < glyphs.len() && (top.y - glyphs[end].y) <= tol {
            end += 1;
        }
        let mut row: Vec<Glyph> = glyphs
            .get(start..end)
            .map(<[Glyph]>::to_vec)
            .unwrap_or_default();
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
        let cells = split_cells(&row);
        if !cells.is_empty() {
            let size = row.iter().map(|g| g.size).fold(0.0f32, f32::max);
            lines.push(Line {
                page,
                number: 0,
                y: top.y,
                size,
                cells,
            });
        }
        start = end;
    }
    for (i, l) in lines.iter_mut().enumerate() {
        l.number = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    lines
}

fn split_cells(row: &[Glyph]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = Vec::new();
    let mut cur: Option<Cell> = None;
    let mut prev_end = f32::NEG_INFINITY;
    let mut prev: Option<Glyph> = None;
    // The font's own space width (Courier: 0.6 em) when the line has space glyphs; else
    // 0.3 em (a bit over Helvetica's 0.278: word gaps made by positioning are often wider).
    let space_em = row
        .iter()
        .filter(|g| g.ch == ' ' && g.w > 0.0 && g.size > 0.0)
        .map(|g| g.w / g.size)
        .fold(None, |m: Option<f32>, v| Some(m.map_or(v, |m| m.max(v))))
        .map_or(0.3, |v| v.clamp(0.3, 0.7));
    for g in row {
        if g.ch.is_whitespace() {
            if let Some(c) = cur.as_mut()
                && !c.text.ends_with(' ')
            {
                c.text.push(' ');
            }
            continue;
        }
        // Fake bold: the same character drawn twice at (almost) the same place.
        if let Some(p) = prev
            && p.ch == g.ch
            && (p.x - g.x).abs() < 0.1 * g.size.max(1.0)
        {
            continue;
        }
        let space_w = space_em * g.size.max(1.0);
        let gap = g.x - prev_end;
        if gap > 1.5 * space_w || cur.is_none() {
            if let Some(mut c) = cur.take() {
                c.text.truncate(c.text.trim_end().len());
                cells.push(c);
            }
            cur = Some(Cell {
                x0: g.x,
                x1: g.x + g.w,
                text: String::new(),
            });
        } else if gap > 0.2 * g.size
            && let Some(c) = cur.as_mut()
            && !c.text.ends_with(' ')
        {
            // A word gap made by positioning rather than a space character.
            c.text.push(' ');
        }
        if let Some(c) = cur.as_mut() {
            c.text.push(g.ch);
            c.x1 = c.x1.max(g.x + g.w);
        }
        prev_end = prev_end.max(g.x + g.w);
        if gap > 1.5 * space_w {
            prev_end = g.x + g.w;
        }
        prev = Some(*g);
    }
    if let Some(mut c) = cur.take() {
        c.text.truncate(c.text.trim_end().len());
        cells.push(c);
    }
    cells
}

/// The text of a whole PDF, as positioned lines.
struct PdfText {
    version: String,
    lines: Vec<Line>,
    notes: Vec<(Option<String>, String)>,
    warnings: Vec<(Option<String>, String)>,
}

fn non_space(g: &[Glyph]) -> usize {
    g.iter().filter(|g| !g.ch.is_whitespace()).count()
}

fn extract_pages(bytes: &[u8], ctx: &ImportContext<'_>) -> Result<PdfText> {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or_default();
    let Some(start) = find(head, b"%PDF-") else {
        return Err(IngestError::malformed(
            FORMAT,
            "no %PDF- header in the first 1024 bytes",
        ));
    };
    let version: String = bytes
        .get(start + 5..)
        .unwrap_or_default()
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .map(|b| char::from(*b))
        .collect();
    let loaded = catch_unwind(|| Document::load_mem(bytes));
    let doc = match loaded {
        Err(p) => {
            return Err(IngestError::Panicked {
                format: FORMAT.into(),
                message: panic_message(p.as_ref()),
            });
        }
        Ok(Err(e)) => {
            if has_encrypt_trailer(bytes) {
                return Err(IngestError::Encrypted);
            }
            return Err(IngestError::malformed(
                FORMAT,
                format!("cannot read the PDF structure ({e})"),
            ));
        }
        Ok(Ok(d)) => d,
    };
    if doc.trailer.get(b"Encrypt").is_ok() {
        return Err(IngestError::Encrypted);
    }
    let mut text = PdfText {
        version: if version.is_empty() {
            doc.version.clone()
        } else {
            version
        },
        lines: Vec::new(),
        notes: Vec::new(),
        warnings: Vec::new(),
    };
    if doc.encryption_state.is_some() {
        // Owner-password-only PDFs open with the empty user password; the text is readable.
        text.notes.push((None, "PDF is encrypted with an empty user password (permissions only); read after decryption".into()));
    }
    let pages = match catch_unwind(AssertUnwindSafe(|| doc.get_pages())) {
        Ok(p) => p,
        Err(p) => {
            return Err(IngestError::Panicked {
                format: FORMAT.into(),
                message: panic_message(p.as_ref()),
            });
        }
    };
    if pages.is_empty() {
        return Err(IngestError::malformed(
            FORMAT,
            "the document has no pages (page tree empty or unreadable)",
        ));
    }
    let mut total_chars = 0usize;
    let mut panics: Vec<String> = Vec::new();
    let mut walked_pages: Vec<u32> = Vec::new();
    for (&page_no, &page_id) in &pages {
        if ctx.progress.is_cancelled() {
            return Err(IngestError::Cancelled);
        }
        let loc = Some(
            Locator::Page {
                page: page_no,
                line: 1,
            }
            .to_string(),
        );
        let mut collector = Collector::default();
        let by_extract = match catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&doc, &mut collector, page_no)
        })) {
            Ok(Ok(())) => Some(collector.glyphs),
            Ok(Err(e)) => {
                text.notes.push((
                    loc.clone(),
                    format!(
                        "pdf-extract stopped on page {page_no} ({e}); the page is also read with lopdf's content walk"
                    ),
                ));
                // Keep what it emitted before the error: it may be most of the page.
                Some(collector.glyphs)
            }
            Err(p) => {
                panics.push(format!("page {page_no}: {}", panic_message(p.as_ref())));
                None
            }
        };
        let by_walk = match catch_unwind(AssertUnwindSafe(|| walk_page(&doc, page_id))) {
            Ok(Ok(g)) => Some(g),
            Ok(Err(_)) => None,
            Err(p) => {
                panics.push(format!(
                    "page {page_no} (content walk): {}",
                    panic_message(p.as_ref())
                ));
                None
            }
        };
        let glyphs = match (by_extract, by_walk) {
            (Some(a), Some(b)) => {
                if non_space(&b) > non_space(&a) {
                    walked_pages.push(page_no);
                    b
                } else {
                    a
                }
            }
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => Vec::new(),
        };
        total_chars += non_space(&glyphs);
        text.lines.extend(build_lines(page_no, glyphs));
    }
    if total_chars == 0 {
        if let Some(first) = panics.into_iter().next() {
            return Err(IngestError::Panicked {
                format: FORMAT.into(),
                message: first,
            });
        }
        return Err(IngestError::NoTextLayer);
    }
    if let Some(first) = walked_pages.first() {
        // Provenance of the text: say which reader produced it where it was not pdf-extract.
        text.notes.push((
            None,
            format!(
                "{} page(s) read with lopdf's content walk because pdf-extract found fewer characters there (e.g. text shown with the ' or \" operators), first: page {first}",
                walked_pages.len()
            ),
        ));
    }
    for p in panics {
        text.warnings.push((
            None,
            format!("PDF parser crashed on part of the file, text there may be missing ({p})"),
        ));
    }
    Ok(text)
}

fn has_encrypt_trailer(bytes: &[u8]) -> bool {
    // Look in the last 64 KiB only: the trailer (or xref stream dict) sits at the end.
    let tail = bytes
        .get(bytes.len().saturating_sub(65_536)..)
        .unwrap_or(bytes);
    find(tail, b"/Encrypt").is_some()
}

// ---------------------------------------------------------------------------------------------
// Layer 3: statements
// ---------------------------------------------------------------------------------------------

/// A date as written on a booking line; the year may be missing (`dd.mm.`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RawDate {
    day: u32,
    month: u32,
    year: Option<i32>,
}

impl RawDate {
    /// Completes a year-less date from the statement's latest date: a booking lies before the
    /// statement was printed, so a date far after the reference belongs to the previous year
    /// (statements over new year).
    fn resolve(self, reference: Option<NaiveDate>) -> Option<NaiveDate> {
        if let Some(y) = self.year {
            return NaiveDate::from_ymd_opt(y, self.month, self.day);
        }
        let r = reference?;
        let this_year = NaiveDate::from_ymd_opt(r.year(), self.month, self.day);
        match this_year {
            Some(d) if d <= r + chrono::Duration::days(45) => Some(d),
            _ => NaiveDate::from_ymd_opt(r.year() - 1, self.month, self.day),
        }
    }
}

/// Whether `a/b` dates are day first (`13/07`) or month first (`05/24/2019`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlashOrder {
    DayFirst,
    MonthFirst,
}

/// Document-wide conventions found by a first pass over all lines.
#[derive(Clone, Debug)]
struct Style {
    sep: DecimalSeparator,
    slash: SlashOrder,
    /// Credit-card statement without +/- marks: plain amounts are charges (money out),
    /// amounts in parentheses are payments/refunds (money in).
    card: bool,
    currency: Option<String>,
}

const CURRENCIES: [&str; 18] = [
    "EUR", "USD", "GBP", "CHF", "SGD", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK",
    "HUF", "TRY", "CNY", "HKD", "RUB",
];

fn two_digits_after(s: &str, sep: char) -> bool {
    match s.rfind(sep) {
        Some(p) => {
            let tail = s.get(p + 1..).unwrap_or("");
            tail.len() == 2
                && tail.bytes().all(|b| b.is_ascii_digit())
                && s.get(..p)
                    .is_some_and(|h| h.ends_with(|c: char| c.is_ascii_digit()))
        }
        None => false,
    }
}

fn scan_style(lines: &[Line]) -> Style {
    let (mut comma, mut dot) = (0usize, 0usize);
    let (mut day_first, mut month_first) = (0usize, 0usize);
    let mut card_words = false;
    let mut due_words = false;
    let mut cur_count: BTreeMap<&'static str, usize> = BTreeMap::new();
    for l in lines {
        for c in &l.cells {
            for tok in c.text.split_whitespace() {
                let core =
                    tok.trim_matches(|ch: char| !(ch.is_ascii_digit() || ch == '.' || ch == ','));
                if two_digits_after(core, ',') {
                    comma += 1;
                } else if core.matches('.').count() == 1 && two_digits_after(core, '.') {
                    // One dot, not at the end: "03.03.25" and "03.03." are dates.
                    dot += 1;
                }
            }
            for word in c.text.split(|ch: char| !ch.is_ascii_alphabetic()) {
                if let Some(code) = CURRENCIES.iter().find(|k| **k == word) {
                    *cur_count.entry(code).or_default() += 1;
                }
            }
        }
        // Ledgers put a document number first: look at the first two cells.
        for first in l
            .cells
            .iter()
            .take(2)
            .filter_map(|c| c.text.split_whitespace().next())
        {
            let parts: Vec<&str> = first.split('/').collect();
            if (2..=3).contains(&parts.len()) {
                let a: u32 = parts.first().and_then(|p| p.parse().ok()).unwrap_or(0);
                let b: u32 = parts.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
                if a > 12 && b <= 12 {
                    day_first += 1;
                } else if b > 12 && a <= 12 {
                    month_first += 1;
                }
            }
        }
        let lower = l.text().to_lowercase();
        card_words |= lower.contains("credit card") || lower.contains("kreditkarte");
        due_words |= lower.contains("amount due")
            || lower.contains("minimum due")
            || lower.contains("minimum payment");
    }
    let sep = if dot > comma {
        DecimalSeparator::Dot
    } else {
        DecimalSeparator::Comma
    };
    let currency = cur_count
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, _)| (*c).to_owned());
    let currency = currency.or_else(|| (sep == DecimalSeparator::Comma).then(|| "EUR".to_owned()));
    Style {
        sep,
        slash: if month_first > day_first {
            SlashOrder::MonthFirst
        } else {
            SlashOrder::DayFirst
        },
        card: card_words && due_words,
        currency,
    }
}

fn month_name(t: &str) -> Option<u32> {
    let t = t.trim_end_matches(['.', ',']).to_lowercase();
    let m = match t.as_str() {
        "jan" | "january" | "januar" | "jän" => 1,
        "feb" | "february" | "februar" => 2,
        "mar" | "march" | "mär" | "mrz" | "märz" => 3,
        "apr" | "april" => 4,
        "may" | "mai" => 5,
        "jun" | "june" | "juni" => 6,
        "jul" | "july" | "juli" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" | "okt" | "oktober" => 10,
        "nov" | "november" => 11,
        "dec" | "december" | "dez" | "dezember" => 12,
        _ => return None,
    };
    Some(m)
}

fn small_num(t: &str, max_len: usize) -> Option<u32> {
    if t.is_empty() || t.len() > max_len || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn year_num(t: &str) -> Option<i32> {
    let t = t.trim_end_matches([',', '.']);
    match t.len() {
        2 => small_num(t, 2)
            .and_then(|y| i32::try_from(y).ok())
            .map(|y| if y < 70 { 2000 + y } else { 1900 + y }),
        4 => small_num(t, 4).and_then(|y| i32::try_from(y).ok()),
        _ => None,
    }
}

fn valid_dm(day: u32, month: u32) -> bool {
    (1..=31).contains(&day) && (1..=12).contains(&month)
}

/// One token date: `dd.mm.yyyy`, `dd.mm.yy`, `dd.mm.`, `dd/mm[/yyyy]`, `dd-mm-yyyy`, `yyyy-mm-dd`.
fn date_token(t: &str, style: &Style) -> Option<RawDate> {
    if t.contains('.') {
        let parts: Vec<&str> = t.split('.').collect();
        let day = small_num(parts.first()?, 2)?;
        let month = small_num(parts.get(1)?, 2)?;
        let year = match parts.get(2) {
            None => {
                // "12.05" could be an amount in an English document.
                if style.sep != DecimalSeparator::Comma {
                    return None;
                }
                None
            }
            Some(&"") if parts.len() == 3 => None,
            Some(y) if parts.len() == 3 => Some(year_num(y)?),
            _ => return None,
        };
        return valid_dm(day, month).then_some(RawDate { day, month, year });
    }
    if t.contains('/') {
        let parts: Vec<&str> = t.split('/').collect();
        if parts.len() > 3 {
            return None;
        }
        let a = small_num(parts.first()?, 2)?;
        let b = small_num(parts.get(1)?, 2)?;
        let year = match parts.get(2) {
            Some(y) => Some(year_num(y)?),
            None => None,
        };
        let (day, month) = if style.slash == SlashOrder::MonthFirst {
            (b, a)
        } else {
            (a, b)
        };
        return valid_dm(day, month).then_some(RawDate { day, month, year });
    }
    if t.contains('-') {
        let parts: Vec<&str> = t.split('-').collect();
        if parts.len() != 3 {
            return None;
        }
        let first = parts.first()?;
        if first.len() == 4 {
            let year = year_num(first)?;
            let month = small_num(parts.get(1)?, 2)?;
            let day = small_num(parts.get(2)?, 2)?;
            return valid_dm(day, month).then_some(RawDate {
                day,
                month,
                year: Some(year),
            });
        }
        let day = small_num(first, 2)?;
        let month = small_num(parts.get(1)?, 2)?;
        let year = year_num(parts.get(2)?)?;
        return valid_dm(day, month).then_some(RawDate {
            day,
            month,
            year: Some(year),
        });
    }
    None
}

/// A date at the start of `toks`, with the number of tokens it used (`05 Jan 2024`, `Jan 05`).
fn date_tokens(toks: &[&str], style: &Style) -> Option<(RawDate, usize)> {
    let first = *toks.first()?;
    if let Some(d) = date_token(first, style) {
        return Some((d, 1));
    }
    let second = *toks.get(1)?;
    let (day, month) = if let Some(m) = month_name(first) {
        (small_num(second.trim_end_matches([',', '.']), 2)?, m)
    } else {
        (
            small_num(first.trim_end_matches('.'), 2)?,
            month_name(second)?,
        )
    };
    if !valid_dm(day, month) {
        return None;
    }
    match toks.get(2).and_then(|t| year_num(t)) {
        Some(y) => Some((
            RawDate {
                day,
                month,
                year: Some(y),
            },
            3,
        )),
        None => Some((
            RawDate {
                day,
                month,
                year: None,
            },
            2,
        )),
    }
}

/// Full dates (with a year) anywhere in a text: they anchor year-less booking dates.
fn full_dates(text: &str, style: &Style) -> impl Iterator<Item = NaiveDate> {
    let toks: Vec<&str> = text
        .split_whitespace()
        .map(|t| t.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')')))
        .collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some((d, n)) = date_tokens(toks.get(i..).unwrap_or_default(), style) {
            if d.year.is_some()
                && let Some(nd) = d.resolve(None)
            {
                found.push(nd);
            }
            i += n;
        } else {
            i += 1;
        }
    }
    found.into_iter()
}

/// How an amount's direction was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignMark {
    None,
    Minus,
    Plus,
    /// Trailing `S` (Soll) or `DR`.
    Debit,
    /// Trailing `H` (Haben) or `CR`.
    Credit,
    /// `(12.34)`.
    Paren,
}

#[derive(Clone, Debug)]
struct Amount {
    /// Absolute value.
    value: Money,
    exact: Option<String>,
    mark: SignMark,
    x0: f32,
    x1: f32,
}

fn strip_suffix_ci<'a>(t: &'a str, suffix: &str) -> Option<&'a str> {
    let n = t.len().checked_sub(suffix.len())?;
    let (head, tail) = (t.get(..n)?, t.get(n..)?);
    tail.eq_ignore_ascii_case(suffix).then_some(head)
}

/// Parses an amount cell strictly (exactly two decimals) so that dates, account numbers and
/// page numbers are never taken for money.
fn parse_amount_text(
    text: &str,
    sep: DecimalSeparator,
) -> Option<(Money, Option<String>, SignMark)> {
    let mut t = text.trim();
    let mut mark = SignMark::None;
    for cur in ["EUR", "€"] {
        if let Some(h) = t.strip_suffix(cur) {
            t = h.trim_end();
        }
        if let Some(h) = t.strip_prefix(cur) {
            t = h.trim_start();
        }
    }
    for (suffix, m) in [
        ("S", SignMark::Debit),
        ("H", SignMark::Credit),
        ("DR", SignMark::Debit),
        ("CR", SignMark::Credit),
    ] {
        if let Some(h) = strip_suffix_ci(t, suffix)
            && h.ends_with(|c: char| c.is_ascii_digit() || c == ' ')
        {
            t = h.trim_end();
            mark = m;
            break;
        }
    }
    if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        if mark != SignMark::None {
            return None;
        }
        t = inner.trim();
        mark = SignMark::Paren;
    }
    let mut core = t;
    for (c, m) in [
        ('-', SignMark::Minus),
        ('\u{2212}', SignMark::Minus),
        ('+', SignMark::Plus),
    ] {
        if let Some(h) = core.strip_suffix(c).or_else(|| core.strip_prefix(c)) {
            if mark != SignMark::None {
                return None;
            }
            core = h.trim();
            mark = m;
        }
    }
    let dec = if sep == DecimalSeparator::Dot {
        '.'
    } else {
        ','
    };
    let group = if dec == ',' { '.' } else { ',' };
    if !core.starts_with(|c: char| c.is_ascii_digit())
        || !core
            .chars()
            .all(|c| c.is_ascii_digit() || c == dec || c == group || c == ' ' || c == '\'')
        || !two_digits_after(core, dec)
    {
        return None;
    }
    let parsed = Money::parse(core, sep).ok()?;
    Some((parsed.money, parsed.exact, mark))
}

fn is_marker(t: &str) -> bool {
    matches!(t.trim(), "S" | "H" | "+" | "-" | "CR" | "DR" | "EUR" | "€")
}

/// A piece of a line: a cell, or the part of a cell left after the dates.
#[derive(Clone, Debug)]
struct Item {
    text: String,
    x0: f32,
    x1: f32,
}

/// Takes an amount off the right end of `items` (a separate cell, a cell plus a sign/marker
/// cell, or the last tokens of a cell when the gap before them was small).
fn take_amount(items: &mut Vec<Item>, sep: DecimalSeparator) -> Option<Amount> {
    let n = items.len();
    let last = items.last()?;
    let (text, x0, consumed) = if is_marker(&last.text) && n >= 2 {
        let prev = items.get(n - 2)?;
        (format!("{} {}", prev.text, last.text), prev.x0, 2)
    } else {
        (last.text.clone(), last.x0, 1)
    };
    let x1 = last.x1;
    if let Some((value, exact, mark)) = parse_amount_text(&text, sep) {
        items.truncate(n - consumed);
        return Some(Amount {
            value,
            exact,
            mark,
            x0,
            x1,
        });
    }
    let toks: Vec<&str> = text.split_whitespace().collect();
    for k in [2usize, 1] {
        if toks.len() > k {
            let split = toks.len() - k;
            let tail = toks.get(split..).unwrap_or_default().join(" ");
            if let Some((value, exact, mark)) = parse_amount_text(&tail, sep) {
                let head = toks.get(..split).unwrap_or_default().join(" ");
                #[allow(clippy::cast_precision_loss)]
                let frac = head.chars().count() as f32 / text.chars().count().max(1) as f32;
                let cut = x0 + (x1 - x0) * frac;
                items.truncate(n - consumed);
                items.push(Item {
                    text: head,
                    x0,
                    x1: cut,
                });
                return Some(Amount {
                    value,
                    exact,
                    mark,
                    x0: cut,
                    x1,
                });
            }
        }
    }
    None
}

/// Column positions from a table header line.
#[derive(Clone, Debug, Default)]
struct Columns {
    debit: Option<(f32, f32)>,
    credit: Option<(f32, f32)>,
    balance: Option<(f32, f32)>,
}

fn header_columns(line: &Line) -> Option<Columns> {
    if line.cells.len() < 3 {
        return None;
    }
    let mut has_date = false;
    let mut cols = Columns::default();
    for c in &line.cells {
        let l = c.text.to_lowercase();
        let span = Some((c.x0, c.x1));
        if ["buchung", "datum", "date", "valuta", "wert"]
            .iter()
            .any(|k| l.contains(k))
        {
            has_date = true;
        }
        if [
            "soll",
            "lastschrift",
            "belastung",
            "debit",
            "withdrawal",
            "ausgang",
            "abgang",
        ]
        .iter()
        .any(|k| l.contains(k))
        {
            cols.debit = span;
        } else if [
            "haben",
            "gutschrift",
            "credit",
            "deposit",
            "eingang",
            "zugang",
        ]
        .iter()
        .any(|k| l.contains(k))
        {
            cols.credit = span;
        } else if ["saldo", "kontostand", "balance"]
            .iter()
            .any(|k| l.contains(k))
        {
            cols.balance = span;
        }
    }
    has_date.then_some(cols)
}

/// How well an amount sits under a header cell (larger is better; amounts are usually right
/// aligned, headers left aligned or centred).
fn column_fit(a: &Amount, col: (f32, f32)) -> f32 {
    let overlap = a.x1.min(col.1) - a.x0.max(col.0);
    if overlap > 0.0 {
        return overlap;
    }
    let centre = f32::midpoint(a.x0, a.x1) - f32::midpoint(col.0, col.1);
    -(a.x1 - col.1).abs().min(centre.abs())
}

/// Signed value from the statement account's view.
fn signed(a: &Amount, cols: Option<&Columns>, style: &Style) -> (Money, bool) {
    let v = a.value;
    let explicit = a.mark != SignMark::None;
    let m = match a.mark {
        SignMark::Minus | SignMark::Debit => v.neg(),
        SignMark::Plus | SignMark::Credit => v,
        SignMark::Paren => {
            if style.card {
                v
            } else {
                v.neg()
            }
        }
        SignMark::None => {
            if let Some(c) = cols
                && let (Some(d), Some(cr)) = (c.debit, c.credit)
            {
                return (
                    if column_fit(a, d) > column_fit(a, cr) {
                        v.neg()
                    } else {
                        v
                    },
                    true,
                );
            }
            if style.card { v.neg() } else { v }
        }
    };
    (m, explicit || style.card)
}

/// A booking being collected.
#[derive(Debug)]
struct Booking {
    page: u32,
    line: u32,
    date: RawDate,
    value_date: Option<RawDate>,
    amount: Option<Money>,
    /// Whether the direction was written (sign, S/H, column, card convention).
    directed: bool,
    exact: Option<String>,
    balance_after: Option<Money>,
    /// Booking text: the text cells of the first line.
    text: String,
    /// The text cells of the first line (ledgers: payee, description, ...).
    parts: Vec<String>,
    text_x: f32,
    last_y: f32,
    size: f32,
    source: Vec<String>,
    cont: Vec<String>,
}

fn parse_booking_line(line: &Line, style: &Style, cols: Option<&Columns>) -> Option<Booking> {
    let cells = &line.cells;
    for start in 0..2usize {
        if start == 1 {
            // Ledgers put a document number before the date.
            let c0 = cells.first()?;
            if cells.len() < 3
                || c0.text.contains(' ')
                || !c0.text.contains(|c: char| c.is_ascii_digit())
            {
                return None;
            }
        }
        let cell = cells.get(start)?;
        let toks: Vec<&str> = cell.text.split_whitespace().collect();
        let Some((date, used)) = date_tokens(&toks, style) else {
            continue;
        };
        let mut rest: Vec<&str> = toks.get(used..).unwrap_or_default().to_vec();
        let mut next_cell = start + 1;
        let mut value_date = None;
        if let Some((vd, n)) = date_tokens(&rest, style) {
            value_date = Some(vd);
            rest.drain(..n.min(rest.len()));
        } else if rest.is_empty()
            && let Some(nc) = cells.get(next_cell)
        {
            let nt: Vec<&str> = nc.text.split_whitespace().collect();
            if let Some((vd, n)) = date_tokens(&nt, style)
                && n == nt.len()
            {
                value_date = Some(vd);
                next_cell += 1;
            }
        }
        let mut items = Vec::with_capacity(cells.len());
        if !rest.is_empty() {
            let text = rest.join(" ");
            #[allow(clippy::cast_precision_loss)]
            let frac = 1.0 - text.chars().count() as f32 / cell.text.chars().count().max(1) as f32;
            items.push(Item {
                text,
                x0: cell.x0 + (cell.x1 - cell.x0) * frac,
                x1: cell.x1,
            });
        }
        for c in cells.get(next_cell..).unwrap_or_default() {
            items.push(Item {
                text: c.text.clone(),
                x0: c.x0,
                x1: c.x1,
            });
        }
        let mut amount = take_amount(&mut items, style.sep);
        let mut balance_after = None;
        if let (Some(a), Some(bcol)) = (&amount, cols.and_then(|c| c.balance)) {
            let others = [cols.and_then(|c| c.debit), cols.and_then(|c| c.credit)];
            if others
                .iter()
                .flatten()
                .all(|o| column_fit(a, bcol) > column_fit(a, *o))
            {
                balance_after = Some(signed(a, None, style).0);
                amount = take_amount(&mut items, style.sep);
            }
        }
        let text_x = items.first().map_or(cell.x1, |i| i.x0);
        let booking_text = items
            .iter()
            .map(|i| i.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        // Without an amount, only a line with a real word can be a booking (its amount may
        // sit on the next line); "01-07-2023  24-07-2023  S$50.00" is a summary box.
        if amount.is_none()
            && !booking_text
                .split(|c: char| !c.is_alphabetic())
                .any(|w| w.chars().count() >= 3)
        {
            return None;
        }
        let (value, directed, exact) = match &amount {
            Some(a) => {
                let (m, d) = signed(a, cols, style);
                (Some(m), d, a.exact.clone())
            }
            None => (None, false, None),
        };
        return Some(Booking {
            page: line.page,
            line: line.number,
            date,
            value_date,
            amount: value,
            directed,
            exact,
            balance_after,
            parts: items.iter().map(|i| i.text.clone()).collect(),
            text: booking_text,
            text_x,
            last_y: line.y,
            size: line.size,
            source: vec![line.text()],
            cont: Vec::new(),
        });
    }
    None
}

/// Opening or closing balance line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BalanceKind {
    Opening,
    Closing,
    /// "Kontostand am …": opening before the bookings, closing after them.
    Either,
}

fn balance_kind(lower: &str) -> Option<BalanceKind> {
    const OPENING: [&str; 9] = [
        "alter kontostand",
        "saldo alt",
        "alter saldo",
        "anfangssaldo",
        "saldovortrag",
        "previous balance",
        "last month's balance",
        "opening balance",
        "balance brought forward",
    ];
    const CLOSING: [&str; 8] = [
        "neuer kontostand",
        "saldo neu",
        "neuer saldo",
        "endsaldo",
        "schlusssaldo",
        "closing balance",
        "new balance",
        "total amount due",
    ];
    // Near the start only: purpose texts may mention a balance further right.
    let head: String = lower.chars().take(25).collect();
    if OPENING.iter().any(|k| head.contains(k)) {
        Some(BalanceKind::Opening)
    } else if CLOSING.iter().any(|k| head.contains(k)) {
        Some(BalanceKind::Closing)
    } else if head.starts_with("kontostand am")
        || head.starts_with("kontostand vom")
        || head.starts_with("kontostand per")
    {
        Some(BalanceKind::Either)
    } else {
        None
    }
}

fn is_carry(lower: &str) -> bool {
    let l = lower.trim_start();
    [
        "übertrag",
        "uebertrag",
        "zwischensumme",
        "seitensumme",
        "carried forward",
        "brought forward",
        "subtotal",
        "total",
    ]
    .iter()
    .any(|k| {
        // Whole words only: "TotalEnergies GmbH" is a counterparty, not a total.
        l.strip_prefix(k)
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric()))
    }) && !l.starts_with("total amount due")
}

/// One statement being collected.
#[derive(Debug, Default)]
struct Stmt {
    number: Option<String>,
    account: PartyRef,
    opening: Option<Money>,
    closing: Option<Money>,
    max_date: Option<NaiveDate>,
    bookings: Vec<Booking>,
    first_page: u32,
    last_page: u32,
}

impl Stmt {
    fn see_dates(&mut self, text: &str, style: &Style) {
        for d in full_dates(text, style) {
            if self.max_date.is_none_or(|m| d > m) {
                self.max_date = Some(d);
            }
        }
    }
    fn is_empty(&self) -> bool {
        self.bookings.is_empty() && self.opening.is_none() && self.closing.is_none()
    }
}

/// Splits text at SEPA keywords (`EREF:`, `SVWZ+`, `IBAN:` ...): (free text before the first
/// key, key/value pairs).
fn split_keys(text: &str) -> (String, Vec<(&'static str, String)>) {
    const KEYS: [&str; 10] = [
        "EREF", "MREF", "CRED", "SVWZ", "KREF", "ABWA", "ABWE", "IBAN", "BIC", "SWIFT",
    ];
    let bytes = text.as_bytes();
    let mut hits: Vec<(usize, usize, &'static str)> = Vec::new();
    for key in KEYS {
        let mut from = 0;
        while let Some(p) = text.get(from..).and_then(|t| t.find(key)) {
            let at = from + p;
            let end = at + key.len();
            let boundary_before =
                at == 0 || !bytes.get(at - 1).is_some_and(u8::is_ascii_alphanumeric);
            let next = bytes.get(end).copied();
            let after_ok = matches!(next, Some(b':' | b'+'))
                || (matches!(key, "IBAN" | "BIC") && matches!(next, Some(b' ')));
            if boundary_before && after_ok {
                let skip = usize::from(matches!(next, Some(b':' | b'+')));
                hits.push((at, end + skip, key));
            }
            from = end;
        }
    }
    hits.sort_unstable();
    let free_end = hits.first().map_or(text.len(), |h| h.0);
    let free = text.get(..free_end).unwrap_or("").trim().to_owned();
    let mut pairs = Vec::with_capacity(hits.len());
    for (i, (_, vstart, key)) in hits.iter().enumerate() {
        let vend = hits.get(i + 1).map_or(text.len(), |h| h.0);
        let value = text
            .get(*vstart..vend.max(*vstart))
            .unwrap_or("")
            .trim()
            .to_owned();
        pairs.push((*key, value));
    }
    (free, pairs)
}

/// Reads an IBAN at the start of `value` (grouped or not). Returns the normalised IBAN,
/// whether its check digits are valid, and the text after it.
fn take_iban(value: &str) -> Option<(String, bool, String)> {
    let toks: Vec<&str> = value.split_whitespace().collect();
    let first = toks.first()?;
    let fb = first.as_bytes();
    if fb.len() < 2 || !fb.iter().take(2).all(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut acc = String::new();
    let mut best: Option<(String, usize)> = None;
    let mut shaped: Option<(String, usize)> = None;
    for (i, t) in toks.iter().enumerate().take(10) {
        if !t.chars().all(|c| c.is_ascii_alphanumeric()) {
            break;
        }
        acc.push_str(&t.to_ascii_uppercase());
        if acc.len() > 34 {
            break;
        }
        if Iban::parse(&acc).is_ok() {
            best = Some((acc.clone(), i + 1));
        } else if acc.len() >= 15 {
            shaped = Some((acc.clone(), i + 1));
        }
    }
    let (iban, used, valid) = match (best, shaped) {
        (Some((b, n)), _) => (b, n, true),
        (None, Some((s, n))) => (s, n, false),
        (None, None) => return None,
    };
    let rest = toks.get(used..).unwrap_or_default().join(" ");
    Some((gs_types::iban::normalize_account_text(&iban), valid, rest))
}

fn take_bic(value: &str) -> Option<(String, String)> {
    let mut toks = value.split_whitespace();
    let first = toks.next()?.trim_end_matches([',', ';']);
    gs_types::iban::is_bic(first).then(|| (first.to_owned(), toks.collect::<Vec<_>>().join(" ")))
}

/// Details read from a booking's continuation lines.
#[derive(Debug, Default)]
struct Details {
    name: Option<String>,
    iban: Option<String>,
    iban_valid: bool,
    bic: Option<String>,
    purpose: Vec<String>,
    eref: Option<String>,
    mref: Option<String>,
    cred: Option<String>,
}

/// Bookings without another party (cash, fees, interest): their text lines are purpose only,
/// e.g. "GA NR00007859 BLZ25050180 …" under a cash withdrawal is no counterparty.
fn has_no_counterparty(booking_text: &str) -> bool {
    let l = booking_text.to_lowercase();
    // German compounds ("Kontoführungsentgelt") match inside words, English words whole.
    [
        "bargeld",
        "geldautomat",
        "entgelt",
        "gebühr",
        "zinsen",
        "abschluss",
        "kontoführung",
    ]
    .iter()
    .any(|k| l.contains(k))
        || l.split(|c: char| !c.is_alphanumeric())
            .any(|w| matches!(w, "atm" | "cash" | "fee" | "fees" | "interest"))
}

fn read_details(cont: &[String], allow_name: bool) -> Details {
    let mut d = Details::default();
    // Without a possible counterparty, the first free line is purpose like the rest.
    let mut free_lines = usize::from(!allow_name);
    for line in cont {
        let (free, pairs) = split_keys(line);
        if !free.is_empty() {
            // A bare IBAN line ("DE89 3704 …") without a label.
            if d.iban.is_none()
                && let Some((iban, valid, rest)) = take_iban(&free)
                && iban.len() >= 15
                && iban.bytes().skip(2).take(2).all(|b| b.is_ascii_digit())
            {
                d.iban = Some(iban);
                d.iban_valid = valid;
                if !rest.is_empty() {
                    d.purpose.push(rest);
                }
            } else if d.name.is_none() && free_lines == 0 {
                d.name = Some(free);
                free_lines += 1;
            } else {
                d.purpose.push(free);
                free_lines += 1;
            }
        }
        for (key, value) in pairs {
            match key {
                "IBAN" => match take_iban(&value) {
                    Some((iban, valid, rest)) => {
                        d.iban = Some(iban);
                        d.iban_valid = valid;
                        if !rest.is_empty() {
                            d.purpose.push(rest);
                        }
                    }
                    None => d.purpose.push(format!("IBAN: {value}")),
                },
                "BIC" | "SWIFT" => match take_bic(&value) {
                    Some((bic, rest)) => {
                        d.bic = Some(bic);
                        if !rest.is_empty() {
                            d.purpose.push(rest);
                        }
                    }
                    None => d.purpose.push(format!("{key}: {value}")),
                },
                "EREF" => d.eref = Some(value),
                "MREF" => d.mref = Some(value),
                "CRED" => d.cred = Some(value),
                "SVWZ" => d.purpose.push(value),
                _ => d.purpose.push(format!("{key}: {value}")),
            }
        }
    }
    d
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

/// Turns a collected statement into transactions and a summary.
fn flush_statement(
    stmt: &mut Stmt,
    style: &Style,
    stmt_no: &mut u32,
    out: &mut ImportOutput,
    ctx: &ImportContext<'_>,
) {
    let s = std::mem::take(stmt);
    if s.is_empty() {
        return;
    }
    *stmt_no += 1;
    let start = out.transactions.len();
    let currency = style.currency.clone().unwrap_or_default();
    let undirected = s
        .bookings
        .iter()
        .filter(|b| b.amount.is_some() && !b.directed)
        .count();
    let with_amount = s.bookings.iter().filter(|b| b.amount.is_some()).count();
    // No sign, no S/H, no debit/credit column anywhere: the direction is not written. With
    // both balances the direction can be proven; otherwise a dot-decimal document of plain
    // amounts is a payments ledger (the brief's "ledger-style" rows).
    let mut flip = false;
    let mut ledger = false;
    if undirected > 0 && undirected == with_amount {
        // i128: hostile files may hold amounts near i64::MAX.
        let sum: i128 = s
            .bookings
            .iter()
            .filter_map(|b| b.amount)
            .map(|m| i128::from(m.cents()))
            .sum();
        let balances = s
            .opening
            .zip(s.closing)
            .map(|(o, c)| (i128::from(o.cents()), i128::from(c.cents())));
        match balances {
            Some((o, c)) if o - sum == c && sum != 0 => flip = true,
            Some((o, c)) if o + sum == c => {}
            _ if style.sep == DecimalSeparator::Dot && s.opening.is_none() && s.closing.is_none() => {
                ledger = true;
                out.info(
                    None,
                    format!("statement {stmt_no}: amounts carry no debit/credit mark and no balances; read as a payments ledger (amounts negative, payee as counterparty)"),
                );
            }
            _ => out.warn(None, format!("statement {stmt_no}: amounts carry no debit/credit mark; read as credits (positive)")),
        }
        if flip {
            out.info(None, format!("statement {stmt_no}: unsigned amounts read as debits because opening − sum = closing"));
        }
    }
    for b in s.bookings {
        let loc = Locator::Page {
            page: b.page,
            line: b.line,
        };
        let Some(mut amount) = b.amount else {
            out.row_error(
                Some(loc.to_string()),
                format!(
                    "booking line has no amount, row not read: {}",
                    b.source.first().map_or("", String::as_str)
                ),
            );
            continue;
        };
        if flip || ledger {
            amount = amount.neg();
        }
        let Some(booking_date) = b.date.resolve(s.max_date) else {
            out.row_error(Some(loc.to_string()), "booking date has no year and the statement gives none (or the date is invalid), row not read");
            continue;
        };
        if b.exact.is_some() {
            out.warn(
                Some(loc.to_string()),
                "amount has digits beyond cents; rounded, exact text kept in amount_exact",
            );
        }
        let d = read_details(&b.cont, !has_no_counterparty(&b.text));
        if let Some(iban) = &d.iban
            && !d.iban_valid
        {
            out.warn(
                Some(loc.to_string()),
                format!(
                    "counterparty IBAN {iban} has wrong check digits or length; kept as written"
                ),
            );
        }
        let lower = b.text.to_lowercase();
        let reversal = [
            "storno",
            "rücklastschrift",
            "rückbuchung",
            "rueckbuchung",
            "retoure",
            "reversal",
        ]
        .iter()
        .any(|k| lower.contains(k));
        let mut counterparty = PartyRef {
            name: non_empty(d.name),
            iban: d.iban,
            bic: d.bic,
            ..PartyRef::default()
        };
        let mut booking_text = non_empty(Some(b.text));
        let mut purpose: Vec<String> = d.purpose;
        if ledger {
            // Ledger rows: the payee is the first text cell; everything else is description.
            let mut parts = b.parts.into_iter();
            counterparty.name = non_empty(parts.next());
            purpose = parts.chain(b.cont.iter().cloned()).collect();
            booking_text = None;
        }
        let purpose = non_empty(Some(purpose.join(" ")));
        out.transactions.push(Transaction {
            locator: Some(loc),
            source_kind: if ledger {
                gs_types::SourceKind::Ledger
            } else {
                gs_types::SourceKind::Statement
            },
            booking_date,
            value_date: b
                .value_date
                .and_then(|v| v.resolve(s.max_date.or(Some(booking_date)))),
            amount,
            amount_exact: b.exact,
            currency: currency.clone(),
            account: s.account.clone(),
            counterparty,
            purpose,
            booking_text,
            end_to_end_ref: non_empty(d.eref),
            mandate_ref: non_empty(d.mref),
            creditor_id: non_empty(d.cred),
            balance_after: b.balance_after,
            reversal,
            source_text: b.source.join("\n"),
            ..Transaction::default()
        });
    }
    let n = out.transactions.len() - start;
    ctx.progress.add_rows(n as u64);
    let pages = if s.first_page == s.last_page {
        format!("page {}", s.first_page)
    } else {
        format!("pages {}–{}", s.first_page, s.last_page)
    };
    let label = match &s.number {
        Some(nr) => format!("statement {stmt_no} (Nr. {nr}, {pages})"),
        None => format!("statement {stmt_no} ({pages})"),
    };
    if s.opening.is_none() && s.closing.is_none() && n > 0 {
        out.info(
            None,
            format!("{label} has no opening or closing balance; not reconciled"),
        );
    }
    out.statements.push(StatementSummary {
        label,
        account: s.account,
        currency,
        opening: s.opening,
        closing: s.closing,
        tx_range: start..out.transactions.len(),
    });
}

/// Statement number from "Kontoauszug Nr. 3/2025", "Auszug 3/2025", "Statement No. 12".
fn statement_number(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let at = ["kontoauszug", "auszug", "statement no", "statement number"]
        .iter()
        .find_map(|k| lower.find(k).map(|p| p + k.len()))?;
    let rest = text.get(at..)?;
    let mut toks = rest.split_whitespace().filter(|t| {
        !matches!(
            t.to_lowercase().trim_end_matches(['.', ':']),
            "nr" | "no" | "nummer" | "number" | ""
        )
    });
    let tok = toks.next()?.trim_end_matches([',', ';']);
    (tok.chars().next().is_some_and(|c| c.is_ascii_digit())).then(|| tok.to_owned())
}

/// `5488-2926-6730-9473` / `5488 2926 6730 9473`: a payment card number (credit-card statements
/// name the card instead of an IBAN).
fn is_card_number(cell: &str) -> bool {
    let groups: Vec<&str> = cell.split(['-', ' ']).collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit()))
}

fn header_info(text: &str, stmt: &mut Stmt, out: &mut ImportOutput, loc: &Locator) {
    let lower = text.to_lowercase();
    for key in ["kontoinhaber", "inhaber"] {
        if stmt.account.name.is_none()
            && let Some(p) = lower.find(key)
        {
            let after = text
                .get(p + key.len()..)
                .unwrap_or("")
                .trim_start_matches([':', ' '])
                .trim();
            let name = after.split("  ").next().unwrap_or("").trim();
            if !name.is_empty() {
                stmt.account.name = Some(name.to_owned());
            }
        }
    }
    if stmt.account.account_number.is_none()
        && let Some(card) = text.split("  ").map(str::trim).find(|c| is_card_number(c))
    {
        stmt.account.account_number = Some(card.to_owned());
    }
    if lower.contains("iban") || lower.contains("bic") {
        let (_, pairs) = split_keys(text);
        for (key, value) in pairs {
            match key {
                "IBAN" if stmt.account.iban.is_none() => {
                    if let Some((iban, valid, _)) = take_iban(&value) {
                        if !valid {
                            out.warn(Some(loc.to_string()), format!("account IBAN {iban} has wrong check digits or length; kept as written"));
                        }
                        stmt.account.iban = Some(iban);
                    }
                }
                "BIC" | "SWIFT" if stmt.account.bic.is_none() => {
                    if let Some((bic, _)) = take_bic(&value) {
                        stmt.account.bic = Some(bic);
                    }
                }
                _ => {}
            }
        }
    }
}

fn parse_statements(lines: &[Line], out: &mut ImportOutput, ctx: &ImportContext<'_>) -> Result<()> {
    let style = scan_style(lines);
    let mut stmt = Stmt::default();
    let mut stmt_no = 0u32;
    let mut open: Option<Booking> = None;
    let mut cols: Option<Columns> = None;
    let mut page = 0u32;
    let mut undated: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i % 4096 == 4095 && ctx.progress.is_cancelled() {
            return Err(IngestError::Cancelled);
        }
        if line.page != page {
            page = line.page;
            if let Some(b) = open.take() {
                stmt.bookings.push(b);
            }
        }
        if stmt.first_page == 0 {
            stmt.first_page = line.page;
        }
        stmt.last_page = line.page;
        let text = line.text();
        // Cell gaps collapse to one space for keyword matching ("LAST  MONTH'S BALANCE").
        let lower = text
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let loc = Locator::Page {
            page: line.page,
            line: line.number,
        };
        if is_carry(&lower) {
            if let Some(b) = open.take() {
                stmt.bookings.push(b);
            }
            continue;
        }
        if let Some(kind) = balance_kind(&lower) {
            if let Some(b) = open.take() {
                stmt.bookings.push(b);
            }
            let mut items: Vec<Item> = line
                .cells
                .iter()
                .map(|c| Item {
                    text: c.text.clone(),
                    x0: c.x0,
                    x1: c.x1,
                })
                .collect();
            let amount = take_amount(&mut items, style.sep);
            let kind = match kind {
                BalanceKind::Either if stmt.closing.is_some() => BalanceKind::Opening,
                BalanceKind::Either if stmt.bookings.is_empty() && stmt.opening.is_none() => {
                    BalanceKind::Opening
                }
                BalanceKind::Either => BalanceKind::Closing,
                k => k,
            };
            if kind == BalanceKind::Opening
                && (stmt.bookings.iter().any(|b| b.amount.is_some()) || stmt.closing.is_some())
            {
                let account = stmt.account.clone();
                flush_statement(&mut stmt, &style, &mut stmt_no, out, ctx);
                // A new opening balance without a new header: same account, next statement.
                stmt.account = account;
                stmt.first_page = line.page;
                stmt.last_page = line.page;
            }
            stmt.see_dates(&text, &style);
            match amount {
                Some(a) => {
                    let (m, _) = signed(&a, cols.as_ref(), &style);
                    match kind {
                        BalanceKind::Opening => stmt.opening = Some(m),
                        _ => stmt.closing = Some(m),
                    }
                }
                None => out.warn(
                    Some(loc.to_string()),
                    format!("balance line without a readable amount: {text}"),
                ),
            }
            continue;
        }
        if let Some(b) = parse_booking_line(line, &style, cols.as_ref()) {
            if let Some(prev) = open.take() {
                stmt.bookings.push(prev);
            }
            if b.date.year.is_some()
                && let Some(d) = b.date.resolve(None)
                && stmt.max_date.is_none_or(|m| d > m)
            {
                stmt.max_date = Some(d);
            }
            open = Some(b);
            continue;
        }
        if let Some(b) = open.as_mut() {
            let size = line.size.max(b.size).max(1.0);
            if b.cont.len() < 12
                && (b.last_y - line.y) <= 3.0 * size
                && line.x0() >= b.text_x - 1.5 * size
            {
                let mut items: Vec<Item> = line
                    .cells
                    .iter()
                    .map(|c| Item {
                        text: c.text.clone(),
                        x0: c.x0,
                        x1: c.x1,
                    })
                    .collect();
                if b.amount.is_none()
                    && let Some(a) = take_amount(&mut items, style.sep)
                {
                    let (m, d) = signed(&a, cols.as_ref(), &style);
                    b.amount = Some(m);
                    b.directed = d;
                    b.exact = a.exact;
                }
                let t = items
                    .iter()
                    .map(|i| i.text.as_str())
                    .collect::<Vec<_>>()
                    .join("  ");
                if !t.is_empty() {
                    b.cont.push(t);
                }
                b.source.push(text);
                b.last_y = line.y;
                continue;
            }
            if let Some(b) = open.take() {
                stmt.bookings.push(b);
            }
        }
        // Outside bookings: header lines. A line that ends in an amount but has no date is
        // not read (salary lists, totals boxes): say so instead of dropping it silently.
        if line.cells.len() >= 2 && statement_number(&text).is_none() {
            let mut items: Vec<Item> = line
                .cells
                .iter()
                .map(|c| Item {
                    text: c.text.clone(),
                    x0: c.x0,
                    x1: c.x1,
                })
                .collect();
            if take_amount(&mut items, style.sep).is_some()
                && items
                    .iter()
                    .any(|i| i.text.chars().any(char::is_alphabetic))
            {
                undated.push(loc.to_string());
            }
        }
        if let Some(nr) = statement_number(&text) {
            if stmt.number.as_ref().is_some_and(|n| *n != nr)
                && (!stmt.bookings.is_empty() || stmt.closing.is_some())
            {
                flush_statement(&mut stmt, &style, &mut stmt_no, out, ctx);
                stmt.first_page = line.page;
                stmt.last_page = line.page;
            }
            stmt.number = Some(nr);
        }
        if let Some(c) = header_columns(line) {
            // A later line that merely mentions "Datum" must not forget known columns.
            if cols.is_none() || c.debit.is_some() || c.credit.is_some() || c.balance.is_some() {
                cols = Some(c);
            }
        }
        header_info(&text, &mut stmt, out, &loc);
        stmt.see_dates(&text, &style);
    }
    if let Some(b) = open.take() {
        stmt.bookings.push(b);
    }
    flush_statement(&mut stmt, &style, &mut stmt_no, out, ctx);
    if let Some(first) = undated.first() {
        out.warn(
            None,
            format!("{} line(s) end in an amount but start with no date; not read as bookings (first at {first})", undated.len()),
        );
    }
    if style.currency.is_none() && !out.transactions.is_empty() {
        out.info(None, "currency not stated in the PDF; left empty");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_jobs::Progress;
    use lopdf::content::{Content, Operation};
    use lopdf::{Stream, StringFormat, dictionary};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../../shared/fixtures/");

    fn run(bytes: Vec<u8>) -> Result<ImportOutput> {
        let progress = Progress::default();
        let ctx = ImportContext {
            mappings: &[],
            progress: &progress,
            frames: None,
        };
        let file = SourceFile::from_bytes("test.pdf", bytes);
        PdfImporter.import(&file, &ctx)
    }

    fn cents(out: &ImportOutput) -> i64 {
        out.transactions.iter().map(|t| t.amount.cents()).sum()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A text placed on a page; `right` = right-aligned at `x`.
    struct Txt {
        x: f32,
        y: f32,
        text: String,
        right: bool,
    }

    fn t(x: f32, y: f32, text: &str) -> Txt {
        Txt {
            x,
            y,
            text: text.to_owned(),
            right: false,
        }
    }

    fn r(x: f32, y: f32, text: &str) -> Txt {
        Txt {
            x,
            y,
            text: text.to_owned(),
            right: true,
        }
    }

    const SIZE: f32 = 9.0;

    fn text_width(text: &str) -> f32 {
        text.chars()
            .map(|c| {
                let w = (c as u32)
                    .checked_sub(32)
                    .and_then(|i| HELVETICA_WIDTHS.get(i as usize))
                    .copied()
                    .unwrap_or(556);
                f32::from(w) / 1000.0 * SIZE
            })
            .sum()
    }

    fn win1252(text: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1252.encode(text).0.into_owned()
    }

    /// Builds a PDF the way the demo generator does: one `BT … Tf x y Td (text) Tj ET` per cell.
    fn pdf_from_pages(pages: &[Vec<Txt>]) -> Vec<u8> {
        let contents: Vec<Vec<Operation>> = pages
            .iter()
            .map(|p| {
                let mut ops = Vec::new();
                for c in p {
                    let x = if c.right {
                        c.x - text_width(&c.text)
                    } else {
                        c.x
                    };
                    ops.push(Operation::new("BT", vec![]));
                    ops.push(Operation::new("Tf", vec!["F1".into(), SIZE.into()]));
                    ops.push(Operation::new("Td", vec![x.into(), c.y.into()]));
                    ops.push(Operation::new(
                        "Tj",
                        vec![Object::String(win1252(&c.text), StringFormat::Literal)],
                    ));
                    ops.push(Operation::new("ET", vec![]));
                }
                ops
            })
            .collect();
        pdf_from_ops(contents, None, "Helvetica")
    }

    fn pdf_from_ops(pages: Vec<Vec<Operation>>, image: Option<()>, font: &str) -> Vec<u8> {
        let mut doc = Document::with_version("1.4");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => font, "Encoding" => "WinAnsiEncoding",
        });
        let mut res = dictionary! { "Font" => dictionary! { "F1" => font } };
        if image.is_some() {
            let img = doc.add_object(Stream::new(
                dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
                vec![0x80],
            ));
            res.set("XObject", dictionary! { "Im1" => img });
        }
        let resources = doc.add_object(res);
        let mut kids: Vec<Object> = Vec::new();
        let count = pages.len();
        for ops in pages {
            let content = Content { operations: ops };
            let cid = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
            let pid = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => cid,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()], "Resources" => resources,
            });
            kids.push(pid.into());
        }
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => i64::try_from(count).unwrap() }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut buf = Vec::new();
        doc.save_to(&mut buf).unwrap();
        buf
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Amounts {
        TrailingSign,
        SuffixSH,
        Columns,
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Dates {
        Full,
        TwoDigit,
        NoYear,
    }

    fn date(dd: &str, style: Dates) -> String {
        match style {
            Dates::Full => format!("{dd}2025"),
            Dates::TwoDigit => format!("{dd}25"),
            Dates::NoYear => dd.to_owned(),
        }
    }

    /// Amount cell(s) for a value in cents.
    fn amount(v: i64, style: Amounts, y: f32, balance: bool) -> Vec<Txt> {
        let text = Money(v.abs()).format_de();
        match style {
            Amounts::TrailingSign if balance => vec![r(
                545.0,
                y,
                &format!("{text} {}", if v < 0 { "S" } else { "H" }),
            )],
            Amounts::TrailingSign => vec![r(
                545.0,
                y,
                &format!("{text}{}", if v < 0 { "-" } else { "+" }),
            )],
            Amounts::SuffixSH => vec![r(
                545.0,
                y,
                &format!("{text} {}", if v < 0 { "S" } else { "H" }),
            )],
            Amounts::Columns => vec![r(if v < 0 { 470.0 } else { 545.0 }, y, &text)],
        }
    }

    /// The demo "Kontoauszug": 2 pages, 6 bookings, Übertrag, opening 1.000,00 H, closing 2.624,60 H.
    fn demo(amounts: Amounts, dates: Dates) -> Vec<u8> {
        let header = |p: &mut Vec<Txt>, blatt: u32| {
            p.push(t(50.0, 800.0, "Sparkasse Musterstadt"));
            p.push(t(50.0, 785.0, "Kontoauszug Nr. 3/2025"));
            p.push(t(450.0, 785.0, &format!("Blatt {blatt} von 2")));
            p.push(t(50.0, 770.0, "Kontoinhaber: Erika Mustermann"));
            p.push(t(50.0, 755.0, "IBAN: DE89 3704 0044 0532 0130 00"));
            p.push(t(300.0, 755.0, "BIC: COBADEFFXXX"));
            p.push(t(50.0, 740.0, "Erstellt am 01.04.2025"));
            p.push(t(50.0, 710.0, "Buchungstag"));
            p.push(t(110.0, 710.0, "Wert"));
            p.push(t(170.0, 710.0, "Erläuterung / Verwendungszweck"));
            if amounts == Amounts::Columns {
                p.push(r(470.0, 710.0, "Soll"));
                p.push(r(545.0, 710.0, "Haben"));
            } else {
                p.push(r(545.0, 710.0, "Betrag EUR"));
            }
        };
        let booking =
            |p: &mut Vec<Txt>, y: &mut f32, dd: &str, text: &str, v: i64, cont: &[&str]| {
                p.push(t(50.0, *y, &date(dd, dates)));
                p.push(t(110.0, *y, &date(dd, dates)));
                p.push(t(170.0, *y, text));
                p.extend(amount(v, amounts, *y, false));
                for c in cont {
                    *y -= 12.0;
                    p.push(t(170.0, *y, c));
                }
                *y -= 12.0;
            };
        let mut p1 = Vec::new();
        header(&mut p1, 1);
        p1.push(t(50.0, 695.0, "Kontostand am 28.02.2025"));
        p1.extend(amount(100_000, amounts, 695.0, true));
        let mut y = 680.0;
        booking(
            &mut p1,
            &mut y,
            "03.03.",
            "SEPA-Überweisung",
            -123_456,
            &[
                "Max Mustermann GmbH",
                "IBAN: DE02 1203 0000 0000 2020 51",
                "Rechnung 4711 EREF: RE-4711",
            ],
        );
        booking(
            &mut p1,
            &mut y,
            "05.03.",
            "Kartenzahlung",
            -4_590,
            &["REWE Markt Musterstadt"],
        );
        booking(
            &mut p1,
            &mut y,
            "10.03.",
            "Bargeldeinzahlung",
            50_000,
            &["Filiale Musterstadt"],
        );
        booking(
            &mut p1,
            &mut y,
            "14.03.",
            "Gutschrift",
            250_000,
            &[
                "Arbeitgeber AG",
                "IBAN: DE12500105170648489890",
                "Lohn März",
            ],
        );
        p1.push(t(50.0, 100.0, "Übertrag"));
        p1.extend(amount(271_954, amounts, 100.0, true));
        let mut p2 = Vec::new();
        header(&mut p2, 2);
        p2.push(t(50.0, 695.0, "Übertrag"));
        p2.extend(amount(271_954, amounts, 695.0, true));
        let mut y = 680.0;
        booking(
            &mut p2,
            &mut y,
            "20.03.",
            "SEPA-Lastschrift",
            -8_999,
            &[
                "Stadtwerke Musterstadt",
                "IBAN: GB82 WEST 1234 5698 7654 32  BIC: NWBKGB2L",
                "EREF: SW-2025-03 MREF: M-778 CRED: DE98ZZZ09999999999",
                "Abschlag März",
            ],
        );
        booking(&mut p2, &mut y, "31.03.", "Kontoführungsentgelt", -495, &[]);
        y -= 12.0;
        p2.push(t(50.0, y, "Kontostand am 31.03.2025"));
        p2.extend(amount(262_460, amounts, y, true));
        p2.push(t(50.0, 60.0, "Bitte prüfen Sie diesen Auszug."));
        pdf_from_pages(&[p1, p2])
    }

    fn check_demo(out: &ImportOutput) {
        assert_eq!(out.format, "PDF statement");
        assert_eq!(out.format_version.as_deref(), Some("1.4"));
        assert_eq!(out.transactions.len(), 6, "{:#?}", out.issues);
        assert_eq!(cents(out), 162_460);
        let amounts: Vec<i64> = out.transactions.iter().map(|t| t.amount.cents()).collect();
        assert_eq!(amounts, [-123_456, -4_590, 50_000, 250_000, -8_999, -495]);
        let first = &out.transactions[0];
        assert_eq!(first.booking_date, d(2025, 3, 3));
        assert_eq!(first.value_date, Some(d(2025, 3, 3)));
        assert_eq!(first.locator, Some(Locator::Page { page: 1, line: 8 }));
        assert_eq!(
            first.counterparty.name.as_deref(),
            Some("Max Mustermann GmbH")
        );
        assert_eq!(
            first.counterparty.iban.as_deref(),
            Some("DE02120300000000202051")
        );
        assert_eq!(first.end_to_end_ref.as_deref(), Some("RE-4711"));
        assert_eq!(first.purpose.as_deref(), Some("Rechnung 4711"));
        assert_eq!(first.booking_text.as_deref(), Some("SEPA-Überweisung"));
        assert_eq!(first.currency, "EUR");
        assert_eq!(
            first.account.iban.as_deref(),
            Some("DE89370400440532013000")
        );
        assert_eq!(first.account.bic.as_deref(), Some("COBADEFFXXX"));
        assert_eq!(first.account.name.as_deref(), Some("Erika Mustermann"));
        assert_eq!(first.source_text.lines().count(), 4);
        assert!(
            first
                .source_text
                .contains("IBAN: DE02 1203 0000 0000 2020 51")
        );
        assert_eq!(
            out.transactions[1].counterparty.name.as_deref(),
            Some("REWE Markt Musterstadt")
        );
        // Cash has no counterparty: the line under it is purpose.
        assert_eq!(out.transactions[2].counterparty, PartyRef::default());
        assert_eq!(
            out.transactions[2].purpose.as_deref(),
            Some("Filiale Musterstadt")
        );
        assert_eq!(
            out.transactions[3].counterparty.iban.as_deref(),
            Some("DE12500105170648489890")
        );
        assert_eq!(out.transactions[3].booking_date, d(2025, 3, 14));
        let lastschrift = &out.transactions[4];
        assert_eq!(
            lastschrift.locator,
            Some(Locator::Page { page: 2, line: 8 })
        );
        assert_eq!(
            lastschrift.counterparty.iban.as_deref(),
            Some("GB82WEST12345698765432")
        );
        assert_eq!(lastschrift.counterparty.bic.as_deref(), Some("NWBKGB2L"));
        assert_eq!(lastschrift.mandate_ref.as_deref(), Some("M-778"));
        assert_eq!(
            lastschrift.creditor_id.as_deref(),
            Some("DE98ZZZ09999999999")
        );
        assert_eq!(lastschrift.end_to_end_ref.as_deref(), Some("SW-2025-03"));
        assert_eq!(lastschrift.purpose.as_deref(), Some("Abschlag März"));
        let fee = &out.transactions[5];
        assert_eq!(fee.booking_date, d(2025, 3, 31));
        assert_eq!(fee.source_text.lines().count(), 1);
        assert_eq!(out.statements.len(), 1);
        let s = &out.statements[0];
        assert_eq!(s.opening, Some(Money(100_000)));
        assert_eq!(s.closing, Some(Money(262_460)));
        assert_eq!(s.tx_range, 0..6);
        assert_eq!(s.account.iban.as_deref(), Some("DE89370400440532013000"));
        assert!(s.label.contains("3/2025"), "{}", s.label);
        assert!(
            !out.issues
                .iter()
                .any(|i| i.severity >= gs_types::Severity::Warning),
            "{:#?}",
            out.issues
        );
    }

    #[test]
    fn demo_layout_trailing_sign() {
        check_demo(&run(demo(Amounts::TrailingSign, Dates::Full)).unwrap());
    }

    #[test]
    fn demo_layout_sh_suffix() {
        check_demo(&run(demo(Amounts::SuffixSH, Dates::Full)).unwrap());
    }

    #[test]
    fn demo_layout_soll_haben_columns() {
        check_demo(&run(demo(Amounts::Columns, Dates::Full)).unwrap());
    }

    #[test]
    fn demo_layout_two_digit_and_missing_years() {
        check_demo(&run(demo(Amounts::TrailingSign, Dates::TwoDigit)).unwrap());
        check_demo(&run(demo(Amounts::SuffixSH, Dates::NoYear)).unwrap());
    }

    fn op(name: &str, args: Vec<Object>) -> Operation {
        Operation::new(name, args)
    }

    fn lit(text: &str) -> Object {
        Object::String(win1252(text), StringFormat::Literal)
    }

    /// A statement whose lines are shown with the `'` and `"` operators (as ghostscript does):
    /// pdf-extract drops them, the content walk must find them.
    #[test]
    fn quote_operator_lines_are_read() {
        let lines = [
            "Volksbank Beispiel eG",
            "Kontoauszug Nr. 7/2024",
            "Kontoinhaber: Hans Beispiel",
            "IBAN: DE89370400440532013000",
            "Buchungstag   Wert         Vorgang                                   Betrag",
            "Alter Kontostand                                                      250,00 H",
            "02.12.24      02.12.24     Dauerauftrag                           100,00 S",
            "                           Vermieter KG",
            "                           Miete Dezember",
            "15.12.24      15.12.24     Storno Lastschrift                       19,99 H",
            "                           Telefon AG",
            "Neuer Kontostand                                                     169,99 H",
        ];
        let mut ops = vec![
            op("BT", vec![]),
            op("Tf", vec!["F1".into(), SIZE.into()]),
            op("TL", vec![12.into()]),
        ];
        ops.push(op("Td", vec![50.into(), 800.into()]));
        ops.push(op("Tj", vec![lit(lines[0])]));
        for (i, l) in lines.iter().enumerate().skip(1) {
            if i == 6 {
                ops.push(op("\"", vec![0.into(), 0.into(), lit(l)]));
            } else {
                ops.push(op("'", vec![lit(l)]));
            }
        }
        ops.push(op("ET", vec![]));
        let out = run(pdf_from_ops(vec![ops], None, "Courier")).unwrap();
        assert_eq!(out.transactions.len(), 2, "{:#?}", out.issues);
        assert_eq!(cents(&out), -8_001);
        assert!(
            out.issues.iter().any(|i| i
                .message
                .starts_with("1 page(s) read with lopdf's content walk")),
            "{:#?}",
            out.issues
        );
        let miete = &out.transactions[0];
        assert_eq!(miete.amount, Money(-10_000));
        assert_eq!(miete.booking_date, d(2024, 12, 2));
        assert_eq!(miete.locator, Some(Locator::Page { page: 1, line: 7 }));
        assert_eq!(miete.counterparty.name.as_deref(), Some("Vermieter KG"));
        assert_eq!(miete.purpose.as_deref(), Some("Miete Dezember"));
        assert_eq!(miete.booking_text.as_deref(), Some("Dauerauftrag"));
        assert_eq!(
            miete.account.iban.as_deref(),
            Some("DE89370400440532013000")
        );
        assert_eq!(miete.account.name.as_deref(), Some("Hans Beispiel"));
        let storno = &out.transactions[1];
        assert_eq!(storno.amount, Money(1_999));
        assert!(storno.reversal);
        assert_eq!(storno.locator, Some(Locator::Page { page: 1, line: 10 }));
        assert_eq!(out.statements.len(), 1);
        assert_eq!(out.statements[0].opening, Some(Money(25_000)));
        assert_eq!(out.statements[0].closing, Some(Money(16_999)));
    }

    /// One-page statement for the multi-statement test.
    fn one_page(nr: &str, opening: i64, bookings: &[(&str, &str, i64)], closing: i64) -> Vec<Txt> {
        let mut p = vec![
            t(50.0, 800.0, &format!("Kontoauszug Nr. {nr}")),
            t(50.0, 785.0, "IBAN: DE12 5001 0517 0648 4898 90"),
            t(50.0, 760.0, "Buchungstag"),
            t(170.0, 760.0, "Verwendungszweck"),
            r(545.0, 760.0, "Betrag EUR"),
            t(50.0, 745.0, "Saldo alt"),
        ];
        p.extend(amount(opening, Amounts::SuffixSH, 745.0, true));
        let mut y = 730.0;
        for (date, text, v) in bookings {
            p.push(t(50.0, y, date));
            p.push(t(170.0, y, text));
            p.extend(amount(*v, Amounts::TrailingSign, y, false));
            y -= 12.0;
        }
        p.push(t(50.0, y, "Saldo neu"));
        p.extend(amount(closing, Amounts::SuffixSH, y, true));
        p
    }

    #[test]
    fn two_statements_in_one_pdf() {
        let mut a = one_page(
            "1/2026",
            -5_000,
            &[("30.12.", "Zinsen", 12), ("02.01.", "Gutschrift", 10_000)],
            5_012,
        );
        a.push(t(300.0, 800.0, "Erstellt am 03.01.2026"));
        let b = one_page(
            "2/2026",
            5_012,
            &[("05.01.2026", "Lastschrift", -1_012)],
            4_000,
        );
        let out = run(pdf_from_pages(&[a, b])).unwrap();
        assert_eq!(out.transactions.len(), 3, "{:#?}", out.issues);
        assert_eq!(cents(&out), 9_000);
        assert_eq!(out.statements.len(), 2);
        assert_eq!(out.statements[0].tx_range, 0..2);
        assert_eq!(out.statements[0].opening, Some(Money(-5_000)));
        assert_eq!(out.statements[0].closing, Some(Money(5_012)));
        assert_eq!(out.statements[1].tx_range, 2..3);
        assert_eq!(out.statements[1].opening, Some(Money(5_012)));
        assert_eq!(out.statements[1].closing, Some(Money(4_000)));
        // Year-less dates take their year from their own statement's dates.
        assert_eq!(out.transactions[0].booking_date, d(2025, 12, 30));
        assert_eq!(out.transactions[1].booking_date, d(2026, 1, 2));
        assert_eq!(out.transactions[2].booking_date, d(2026, 1, 5));
        assert_eq!(
            out.transactions[2].locator,
            Some(Locator::Page { page: 2, line: 5 })
        );
    }

    fn unsigned_page(opening: &str, closing: Option<&str>) -> Vec<Txt> {
        let mut p = vec![
            t(50.0, 800.0, "Kontoauszug Nr. 5/2025"),
            t(50.0, 760.0, "Datum"),
            t(170.0, 760.0, "Text"),
            r(545.0, 760.0, "Betrag"),
            t(50.0, 745.0, "Saldo alt"),
            r(545.0, 745.0, opening),
            t(50.0, 730.0, "02.05.2025"),
            t(170.0, 730.0, "Lastschrift Strom"),
            r(545.0, 730.0, "60,00"),
            t(50.0, 718.0, "09.05.2025"),
            t(170.0, 718.0, "Lastschrift Gas"),
            r(545.0, 718.0, "40,00"),
        ];
        if let Some(c) = closing {
            p.push(t(50.0, 700.0, "Saldo neu"));
            p.push(r(545.0, 700.0, c));
        }
        p
    }

    #[test]
    fn unsigned_amounts_take_their_direction_from_the_balances() {
        let out = run(pdf_from_pages(&[unsigned_page("500,00", Some("400,00"))])).unwrap();
        assert_eq!(out.transactions.len(), 2);
        assert_eq!(cents(&out), -10_000);
        assert!(
            out.issues
                .iter()
                .any(|i| i.message.contains("read as debits")),
            "{:#?}",
            out.issues
        );
        let out = run(pdf_from_pages(&[unsigned_page("500,00", Some("600,00"))])).unwrap();
        assert_eq!(cents(&out), 10_000);
        // Without a closing balance the direction is unknown: credits, with a warning.
        let out = run(pdf_from_pages(&[unsigned_page("500,00", None)])).unwrap();
        assert_eq!(cents(&out), 10_000);
        assert!(
            out.issues
                .iter()
                .any(|i| i.severity == gs_types::Severity::Warning
                    && i.message.contains("no debit/credit mark")),
            "{:#?}",
            out.issues
        );
    }

    /// English layout: "Jan 05" dates, dot decimals, withdrawal/deposit columns and a running
    /// balance column.
    #[test]
    fn english_columns_with_running_balance() {
        let p = vec![
            t(50.0, 800.0, "Statement period 01/01/2024 to 31/01/2024"),
            t(50.0, 760.0, "Date"),
            t(110.0, 760.0, "Description"),
            r(400.0, 760.0, "Withdrawals"),
            r(470.0, 760.0, "Deposits"),
            r(545.0, 760.0, "Balance"),
            t(50.0, 745.0, "Opening balance"),
            r(545.0, 745.0, "1,000.00"),
            t(50.0, 730.0, "Jan 05"),
            t(110.0, 730.0, "Coffee shop"),
            r(400.0, 730.0, "4.50"),
            r(545.0, 730.0, "995.50"),
            t(50.0, 718.0, "Jan 06"),
            t(110.0, 718.0, "Salary ACME Ltd"),
            r(470.0, 718.0, "1,200.00"),
            r(545.0, 718.0, "2,195.50"),
            t(50.0, 700.0, "Closing balance"),
            r(545.0, 700.0, "2,195.50"),
        ];
        let out = run(pdf_from_pages(&[p])).unwrap();
        assert_eq!(out.transactions.len(), 2, "{:#?}", out.issues);
        let amounts: Vec<i64> = out.transactions.iter().map(|t| t.amount.cents()).collect();
        assert_eq!(amounts, [-450, 120_000]);
        assert_eq!(out.transactions[0].booking_date, d(2024, 1, 5));
        assert_eq!(out.transactions[0].balance_after, Some(Money(99_550)));
        assert_eq!(out.transactions[1].balance_after, Some(Money(219_550)));
        assert_eq!(
            out.transactions[1].booking_text.as_deref(),
            Some("Salary ACME Ltd")
        );
        assert_eq!(out.statements[0].opening, Some(Money(100_000)));
        assert_eq!(out.statements[0].closing, Some(Money(219_550)));
    }

    #[test]
    fn year_less_dates_without_any_year_are_row_errors() {
        let a = one_page("1", 0, &[("30.12.", "Zinsen", 12)], 12);
        let out = run(pdf_from_pages(&[a])).unwrap();
        assert_eq!(out.transactions.len(), 0);
        let errors: Vec<_> = out
            .issues
            .iter()
            .filter(|i| i.severity == gs_types::Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{:#?}", out.issues);
        assert_eq!(errors[0].locator.as_deref(), Some("page=1 line=5"));
        assert_eq!(out.statements.len(), 1);
        assert_eq!(out.statements[0].tx_range, 0..0);
    }

    #[test]
    fn year_is_taken_from_the_statement_across_new_year() {
        let mut p = one_page(
            "1/2026",
            0,
            &[("30.12.", "Zinsen", 12), ("02.01.", "Gutschrift", 10_000)],
            10_012,
        );
        p.push(t(300.0, 800.0, "Erstellt am 03.01.2026"));
        let out = run(pdf_from_pages(&[p])).unwrap();
        assert_eq!(out.transactions.len(), 2, "{:#?}", out.issues);
        assert_eq!(out.transactions[0].booking_date, d(2025, 12, 30));
        assert_eq!(out.transactions[1].booking_date, d(2026, 1, 2));
    }

    #[test]
    fn letter_without_bookings_is_loaded_with_zero_rows() {
        let p = vec![
            t(50.0, 800.0, "Sparkasse Musterstadt"),
            t(50.0, 770.0, "Sehr geehrte Frau Mustermann,"),
            t(50.0, 755.0, "wir bestätigen Ihren Auftrag vom 12.03.2025."),
            t(50.0, 740.0, "Mit freundlichen Grüßen"),
        ];
        let out = run(pdf_from_pages(&[p])).unwrap();
        assert!(out.transactions.is_empty());
        assert!(out.statements.is_empty());
        assert!(
            out.issues
                .iter()
                .any(|i| i.message.starts_with("no transactions found")),
            "{:#?}",
            out.issues
        );
    }

    #[test]
    fn image_only_pdf_has_no_text_layer() {
        let ops = vec![
            op("q", vec![]),
            op(
                "cm",
                vec![
                    500.into(),
                    0.into(),
                    0.into(),
                    700.into(),
                    40.into(),
                    60.into(),
                ],
            ),
            op("Do", vec![Object::Name(b"Im1".to_vec())]),
            op("Q", vec![]),
        ];
        let err = run(pdf_from_ops(vec![ops], Some(()), "Helvetica")).unwrap_err();
        assert!(matches!(err, IngestError::NoTextLayer), "{err}");
    }

    #[test]
    fn encrypted_pdf_is_refused() {
        let plain = demo(Amounts::TrailingSign, Dates::Full);
        let mut doc = Document::load_mem(&plain).unwrap();
        let enc = doc.add_object(dictionary! {
            "Filter" => "Standard", "V" => 1, "R" => 2, "P" => -4,
            "O" => Object::String(vec![7; 32], StringFormat::Hexadecimal),
            "U" => Object::String(vec![9; 32], StringFormat::Hexadecimal),
        });
        doc.trailer.set("Encrypt", enc);
        doc.trailer.set(
            "ID",
            vec![
                Object::String(vec![1; 16], StringFormat::Hexadecimal),
                Object::String(vec![1; 16], StringFormat::Hexadecimal),
            ],
        );
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let err = run(bytes).unwrap_err();
        assert!(matches!(err, IngestError::Encrypted), "{err}");
    }

    #[test]
    fn garbage_and_truncated_pdfs_fail_cleanly() {
        let err =
            run(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nthis is not a pdf at all\n".to_vec()).unwrap_err();
        assert!(matches!(err, IngestError::Malformed { .. }), "{err}");
        assert!(err.to_string().starts_with("PDF: "), "{err}");
        let err = run(b"not even a header".to_vec()).unwrap_err();
        assert!(matches!(err, IngestError::Malformed { .. }), "{err}");
        let full = demo(Amounts::TrailingSign, Dates::Full);
        for cut in [full.len() / 4, full.len() / 2, full.len() - 40] {
            // lopdf may rebuild a truncated file; what it reads must still be a subset.
            match run(full.get(..cut).unwrap().to_vec()) {
                Ok(out) => assert!(out.transactions.len() <= 6),
                Err(e) => assert!(
                    matches!(
                        e,
                        IngestError::Malformed { .. }
                            | IngestError::NoTextLayer
                            | IngestError::Panicked { .. }
                    ),
                    "{e}"
                ),
            }
        }
    }

    /// pdf-extract panics on a page without /MediaBox; the panic is caught and lopdf's content
    /// walk still reads the page.
    #[test]
    fn pdf_extract_panic_is_caught_and_text_still_read() {
        let mut doc = Document::load_mem(&demo(Amounts::TrailingSign, Dates::Full)).unwrap();
        for (_, id) in doc.get_pages() {
            doc.get_object_mut(id)
                .unwrap()
                .as_dict_mut()
                .unwrap()
                .remove(b"MediaBox");
        }
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let out = run(bytes).unwrap();
        assert_eq!(out.transactions.len(), 6, "{:#?}", out.issues);
        assert_eq!(cents(&out), 162_460);
        let crashes = out
            .issues
            .iter()
            .filter(|i| i.message.starts_with("PDF parser crashed"))
            .count();
        assert_eq!(crashes, 2, "{:#?}", out.issues);
    }

    #[test]
    fn detect_by_header() {
        let f = SourceFile::from_bytes("x.bin", demo(Amounts::TrailingSign, Dates::Full));
        assert_eq!(PdfImporter.detect(&f), Some(90));
        let f = SourceFile::from_bytes("x.pdf", b"%PDX-1.4 nope".to_vec());
        assert_eq!(PdfImporter.detect(&f), None);
        let f = SourceFile::from_bytes("x.pdf", Vec::new());
        assert_eq!(PdfImporter.detect(&f), None);
    }

    #[test]
    fn amount_and_date_tokens() {
        let c = DecimalSeparator::Comma;
        assert_eq!(
            parse_amount_text("1.234,56-", c),
            Some((Money(123_456), None, SignMark::Minus))
        );
        assert_eq!(
            parse_amount_text("80,00+", c),
            Some((Money(8_000), None, SignMark::Plus))
        );
        assert_eq!(
            parse_amount_text("1.234,56 S", c),
            Some((Money(123_456), None, SignMark::Debit))
        );
        assert_eq!(
            parse_amount_text("-12,00", c),
            Some((Money(1_200), None, SignMark::Minus))
        );
        assert_eq!(
            parse_amount_text("(412.16)", DecimalSeparator::Dot),
            Some((Money(41_216), None, SignMark::Paren))
        );
        for not_amount in [
            "3/2025",
            "12.03.2025",
            "1234",
            "DE89 3704",
            "12,5",
            "- 12,00 -",
            "Blatt 1",
        ] {
            assert_eq!(parse_amount_text(not_amount, c), None, "{not_amount}");
        }
        let style = Style {
            sep: c,
            slash: SlashOrder::DayFirst,
            card: false,
            currency: None,
        };
        assert_eq!(
            date_tokens(&["31.12.24"], &style).map(|x| x.0),
            Some(RawDate {
                day: 31,
                month: 12,
                year: Some(2024)
            })
        );
        assert_eq!(
            date_tokens(&["31.12."], &style).map(|x| x.0),
            Some(RawDate {
                day: 31,
                month: 12,
                year: None
            })
        );
        assert_eq!(
            date_tokens(&["Jan", "05", "x"], &style),
            Some((
                RawDate {
                    day: 5,
                    month: 1,
                    year: None
                },
                2
            ))
        );
        assert_eq!(
            date_tokens(&["05", "JAN", "23"], &style),
            Some((
                RawDate {
                    day: 5,
                    month: 1,
                    year: Some(2023)
                },
                3
            ))
        );
        assert_eq!(date_tokens(&["32.01.2025"], &style), None);
        assert_eq!(date_tokens(&["Kontoauszug"], &style), None);
    }

    #[test]
    fn fixture_monopoly_credit_card_statement() {
        let bytes =
            std::fs::read(format!("{FIXTURES}monopoly-core/example_statement.pdf")).unwrap();
        let out = run(bytes).unwrap();
        // 50 purchases, 1 payment (412.16) and 1 cash rebate (1.38) on pages 1–2; the card
        // account's view: purchases negative. Opening −412.16 + sum −289.94 = closing −702.10
        // ("TOTAL AMOUNT DUE 702.10"), as printed.
        assert_eq!(out.transactions.len(), 52, "{:#?}", out.issues);
        assert_eq!(cents(&out), -28_994);
        assert!(out.transactions.iter().all(|t| t.currency == "SGD"));
        let pay = &out.transactions[0];
        assert_eq!(pay.amount, Money(41_216));
        assert_eq!(pay.booking_date, d(2023, 7, 2));
        assert_eq!(pay.booking_text.as_deref(), Some("PAYMENT BY INTERNET"));
        assert_eq!(pay.locator, Some(Locator::Page { page: 1, line: 25 }));
        let rebate = out.transactions.last().unwrap();
        assert_eq!(rebate.amount, Money(138));
        assert_eq!(rebate.locator, Some(Locator::Page { page: 2, line: 24 }));
        assert_eq!(
            out.transactions
                .iter()
                .filter(|t| t.amount.is_negative())
                .count(),
            50
        );
        assert_eq!(out.statements.len(), 1);
        let s = &out.statements[0];
        assert_eq!(
            (s.opening, s.closing),
            (Some(Money(-41_216)), Some(Money(-70_210)))
        );
        assert_eq!(
            s.opening.unwrap().cents() + cents(&out),
            s.closing.unwrap().cents()
        );
        assert_eq!(
            s.account.account_number.as_deref(),
            Some("5488-2926-6730-9473")
        );
    }

    #[test]
    fn fixture_senate_expenditures_ledger() {
        let bytes = std::fs::read(format!("{FIXTURES}pdfplumber/senate-expenditures.pdf")).unwrap();
        let out = run(bytes).unwrap();
        // 22 dated payments (DHAW2019…), month-first dates, no signs, no balances: a payments
        // ledger. The 10 salary rows above them have no date and are reported, not read.
        assert_eq!(out.transactions.len(), 22, "{:#?}", out.issues);
        assert_eq!(cents(&out), -1_328_586);
        assert!(
            out.transactions
                .iter()
                .all(|t| t.source_kind == gs_types::SourceKind::Ledger)
        );
        let first = &out.transactions[0];
        assert_eq!(first.booking_date, d(2019, 5, 3));
        assert_eq!(first.amount, Money(-92_068));
        assert_eq!(
            first.counterparty.name.as_deref(),
            Some("CITIBANK - TRAVEL CBA CARD")
        );
        assert_eq!(first.locator, Some(Locator::Page { page: 1, line: 16 }));
        assert!(
            first
                .purpose
                .as_deref()
                .unwrap()
                .contains("AIRFARE FOR E JOHNSON")
        );
        assert!(
            out.issues.iter().any(|i| i
                .message
                .starts_with("10 line(s) end in an amount but start with no date")),
            "{:#?}",
            out.issues
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

        #[test]
        fn random_bytes_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let mut bytes = b"%PDF-1.4\n".to_vec();
            bytes.extend(tail);
            let _ = run(bytes);
        }

        #[test]
        fn mutated_pdf_never_panics(cut in 0.0f64..1.0, flips in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 0..6)) {
            let mut bytes = small_pdf();
            for (pos, b) in flips {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
                let i = (pos * bytes.len() as f64) as usize;
                if let Some(x) = bytes.get_mut(i) {
                    *x = b;
                }
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let keep = ((cut * bytes.len() as f64) as usize).max(bytes.len() / 2);
            bytes.truncate(keep);
            let _ = run(bytes);
        }
    }

    fn small_pdf() -> Vec<u8> {
        static PDF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        PDF.get_or_init(|| {
            pdf_from_pages(&[one_page(
                "1/2025",
                100,
                &[("02.01.2025", "Gutschrift", 500)],
                600,
            )])
        })
        .clone()
    }
}
