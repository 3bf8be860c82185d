//! Design tokens: the only place colours are chosen.

use egui::Color32;

/// Colours for a light or dark theme.
#[derive(Clone, Copy, Debug)]
pub struct Tokens {
    /// Negative amounts (money out).
    pub negative: Color32,
    /// Positive amounts (money in).
    pub positive: Color32,
    /// Warnings.
    pub warning: Color32,
    /// Errors / failed files.
    pub error: Color32,
    /// Success / loaded files.
    pub ok: Color32,
    /// Muted text (skipped files, hints).
    pub muted: Color32,
}

/// Tokens for the current visuals. (The one place allowed to name colours: see clippy.toml.)
#[allow(clippy::disallowed_methods)]
pub fn tokens(dark_mode: bool) -> Tokens {
    if dark_mode {
        Tokens {
            negative: Color32::from_rgb(0xFF, 0x8A, 0x80),
            positive: Color32::from_rgb(0x8B, 0xD8, 0x8B),
            warning: Color32::from_rgb(0xFF, 0xC1, 0x4D),
            error: Color32::from_rgb(0xFF, 0x6B, 0x6B),
            ok: Color32::from_rgb(0x7C, 0xCF, 0x7C),
            muted: Color32::from_gray(150),
        }
    } else {
        Tokens {
            negative: Color32::from_rgb(0xB0, 0x1E, 0x1E),
            positive: Color32::from_rgb(0x1B, 0x6E, 0x20),
            warning: Color32::from_rgb(0x9A, 0x60, 0x00),
            error: Color32::from_rgb(0xC6, 0x28, 0x28),
            ok: Color32::from_rgb(0x2E, 0x7D, 0x32),
            muted: Color32::from_gray(110),
        }
    }
}
