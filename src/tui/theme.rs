//! Colours, in one place: three named themes, resolved once for the terminal's colour depth.
//!
//! - `default`: mid-luminance colours, readable on dark and on light backgrounds (each has a
//!   contrast of about 4:1 or more against both black and white); text the user reads at length
//!   stays in the terminal's own foreground colour.
//! - `high-contrast`: no greys and no colour on its own: status colours come as foreground and
//!   background pairs (white on red, black on yellow), so they do not depend on the background.
//! - `mono`: no colour at all (what `NO_COLOR` asks for); bold, reverse and underline keep the
//!   focus and the selection visible.
//!
//! Colours are given in RGB with a named ANSI stand-in, and drawn as RGB (`COLORTERM=truecolor`),
//! as the nearest of the xterm 256-colour palette (`TERM=*256color*`), or as the stand-in.

use ratatui::style::{Color, Modifier, Style};
use std::cell::Cell;
use std::sync::OnceLock;

/// The themes, by the names the environment and the configuration file use.
pub const NAMES: [&str; 3] = ["default", "high-contrast", "mono"];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Name {
    #[default]
    Default,
    HighContrast,
    Mono,
}

impl Name {
    pub fn as_str(self) -> &'static str {
        match self {
            Name::Default => NAMES[0],
            Name::HighContrast => NAMES[1],
            Name::Mono => NAMES[2],
        }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A theme by name (case-insensitive; `high_contrast` and `highcontrast` are accepted too).
pub fn by_name(name: &str) -> Option<Name> {
    match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "default" => Some(Name::Default),
        "high-contrast" | "highcontrast" => Some(Name::HighContrast),
        "mono" | "monochrome" | "none" => Some(Name::Mono),
        _ => None,
    }
}

/// How many colours the terminal shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Depth {
    /// 24-bit RGB.
    TrueColor,
    /// The xterm 256-colour palette.
    Ansi256,
    /// The 16 named ANSI colours, whose shades the terminal's palette decides.
    #[default]
    Ansi16,
}

impl Depth {
    /// `COLORTERM=truecolor` or `24bit`: RGB; a `TERM` with `256color` in it: 256 colours;
    /// anything else: the 16 named colours.
    pub fn detect(colorterm: Option<&str>, term: Option<&str>) -> Depth {
        let colorterm = colorterm.unwrap_or("").trim().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            Depth::TrueColor
        } else if term.is_some_and(|t| t.contains("256color")) {
            Depth::Ansi256
        } else {
            Depth::Ansi16
        }
    }

    pub fn from_env() -> Depth {
        let var = |k| std::env::var(k).ok();
        Depth::detect(var("COLORTERM").as_deref(), var("TERM").as_deref())
    }
}

/// A theme that does not exist.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown theme {name:?} in TRAILSCOPE_THEME (themes: {})", NAMES.join(", "))]
pub struct UnknownTheme {
    pub name: String,
}

/// Which theme to use, strongest first: `TRAILSCOPE_THEME`, then the configuration file's
/// `theme`, then `mono` when `NO_COLOR` is set and not empty (no-color.org: a program's own
/// settings override it), else `default`. An unknown name in `TRAILSCOPE_THEME` is an error.
pub fn choose(env_theme: Option<&str>, configured: Option<Name>, no_color: Option<&str>) -> Result<Name, UnknownTheme> {
    if let Some(t) = env_theme.filter(|t| !t.trim().is_empty()) {
        return by_name(t).ok_or_else(|| UnknownTheme { name: t.to_string() });
    }
    if let Some(name) = configured {
        return Ok(name);
    }
    if no_color.is_some_and(|v| !v.is_empty()) {
        return Ok(Name::Mono);
    }
    Ok(Name::Default)
}

/// [`choose`] with `TRAILSCOPE_THEME` and `NO_COLOR` from the environment.
pub fn choose_from_env(configured: Option<Name>) -> Result<Name, UnknownTheme> {
    let var = |k| std::env::var(k).ok();
    choose(var("TRAILSCOPE_THEME").as_deref(), configured, var("NO_COLOR").as_deref())
}

/// A colour as a theme means it, and the named ANSI colour that stands in for it at 16 colours.
#[derive(Clone, Copy, Debug)]
struct Hue {
    rgb: (u8, u8, u8),
    ansi: Color,
}

const fn hue(r: u8, g: u8, b: u8, ansi: Color) -> Hue {
    Hue { rgb: (r, g, b), ansi }
}

/// A theme resolved for one colour depth: every style the panes use.
#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub name: Name,
    pub depth: Depth,
    border_focused: Style,
    border: Style,
    title_focused: Style,
    title: Style,
    header: Style,
    selected_focused: Style,
    selected: Style,
    error: Style,
    write: Style,
    dim: Style,
    key: Style,
    ok: Style,
    matched: Style,
    bars: Style,
}

impl Theme {
    pub fn new(name: Name, depth: Depth) -> Theme {
        let fg = |h: Hue| Style::default().fg(h.color(depth));
        let pair = |f: Hue, b: Hue| Style::default().fg(f.color(depth)).bg(b.color(depth));
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let plain = Style::default();
        let header = Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        let emphasis = Modifier::BOLD | Modifier::UNDERLINED;
        match name {
            Name::Default => {
                // xterm 32, 244, 160, 136, 28, 166, 68, 255 and 239: each exact in the 256 palette.
                let accent = hue(0, 135, 215, Color::Cyan);
                let grey = hue(128, 128, 128, Color::DarkGray);
                let red = hue(215, 0, 0, Color::Red);
                let amber = hue(175, 135, 0, Color::Yellow);
                let green = hue(0, 135, 0, Color::Green);
                let orange = hue(215, 95, 0, Color::Yellow);
                let blue = hue(95, 135, 215, Color::Blue);
                let light = hue(238, 238, 238, Color::White);
                let dark = hue(78, 78, 78, Color::DarkGray);
                Theme {
                    name,
                    depth,
                    border_focused: fg(accent),
                    border: fg(grey),
                    title_focused: fg(accent).add_modifier(Modifier::BOLD),
                    title: bold,
                    header,
                    selected_focused: Style::default().add_modifier(Modifier::REVERSED),
                    // A pair of its own: the terminal's foreground may be dark or light.
                    selected: pair(light, dark),
                    error: fg(red),
                    write: fg(amber),
                    dim: fg(grey),
                    key: fg(accent).add_modifier(Modifier::BOLD),
                    ok: fg(green),
                    matched: fg(orange).add_modifier(emphasis),
                    bars: fg(blue),
                }
            }
            Name::HighContrast => {
                let white = hue(255, 255, 255, Color::White);
                let black = hue(0, 0, 0, Color::Black);
                let red = hue(175, 0, 0, Color::Red);
                let yellow = hue(255, 215, 0, Color::Yellow);
                let green = hue(0, 215, 0, Color::Green);
                Theme {
                    name,
                    depth,
                    border_focused: bold,
                    border: plain,
                    title_focused: pair(black, yellow).add_modifier(Modifier::BOLD),
                    title: bold,
                    header,
                    selected_focused: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
                    selected: Style::default().add_modifier(Modifier::REVERSED),
                    error: pair(white, red).add_modifier(Modifier::BOLD),
                    write: pair(black, yellow),
                    dim: plain,
                    key: Style::default().add_modifier(emphasis),
                    ok: pair(black, green),
                    matched: pair(black, yellow).add_modifier(emphasis),
                    bars: plain,
                }
            }
            Name::Mono => Theme {
                name,
                depth,
                border_focused: bold,
                border: plain,
                title_focused: Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
                title: bold,
                header,
                selected_focused: Style::default().add_modifier(Modifier::REVERSED),
                selected: Style::default().add_modifier(Modifier::UNDERLINED),
                error: bold,
                write: plain,
                dim: plain,
                key: bold,
                ok: plain,
                matched: Style::default().add_modifier(emphasis),
                bars: plain,
            },
        }
    }

    /// The colour of a piece of highlighted JSON, from the syntax theme's RGB; `None` keeps the
    /// terminal's own foreground (always readable), as for `plain` text, the syntax theme's
    /// default colour. The default theme brings the rest to mid luminance, so that a palette
    /// made for a dark background reads on a light one too; the others use no colour here.
    pub fn syntax(&self, rgb: (u8, u8, u8), plain: bool) -> Option<Color> {
        if self.name != Name::Default || plain {
            return None;
        }
        match self.depth {
            // The terminal's palette decides the shade: keep the hue, in its normal variant
            // (bright ones fade on light backgrounds); light greys stay the terminal's own.
            Depth::Ansi16 => match rgb_to_16(rgb.0, rgb.1, rgb.2) {
                Color::LightRed => Some(Color::Red),
                Color::LightGreen => Some(Color::Green),
                Color::LightYellow => Some(Color::Yellow),
                Color::LightBlue => Some(Color::Blue),
                Color::LightMagenta => Some(Color::Magenta),
                Color::LightCyan => Some(Color::Cyan),
                Color::Black | Color::Gray | Color::White => None,
                c => Some(c),
            },
            depth => Some(depth.color(readable(rgb), None)),
        }
    }
}

impl Hue {
    fn color(self, depth: Depth) -> Color {
        depth.color(self.rgb, Some(self.ansi))
    }
}

impl Depth {
    /// An RGB colour at this depth; at 16 colours, `ansi` when given, else the nearest by hue.
    pub fn color(self, (r, g, b): (u8, u8, u8), ansi: Option<Color>) -> Color {
        match self {
            Depth::TrueColor => Color::Rgb(r, g, b),
            Depth::Ansi256 => Color::Indexed(rgb_to_256(r, g, b)),
            Depth::Ansi16 => ansi.unwrap_or_else(|| rgb_to_16(r, g, b)),
        }
    }
}

/// The levels of the xterm 256-colour cube (indices 16-231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The nearest colour of the xterm 256-colour palette, from the 6x6x6 cube or the grey ramp
/// (232-255), as tmux chooses it; the first 16, whose shades vary by terminal, are not used.
pub fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    let level = |v: u8| -> usize {
        if v < 48 {
            0
        } else if v < 115 {
            1
        } else {
            ((v as usize - 35) / 40).min(5)
        }
    };
    let (qr, qg, qb) = (level(r), level(g), level(b));
    let cube = (CUBE[qr], CUBE[qg], CUBE[qb]);
    let cube_index = 16 + 36 * qr + 6 * qg + qb;
    if cube == (r, g, b) {
        return cube_index as u8;
    }
    // The grey ramp: 8, 18, ..., 238.
    let avg = (r as usize + g as usize + b as usize) / 3;
    let grey_index = if avg > 238 { 23 } else { avg.saturating_sub(3) / 10 };
    let grey = (8 + 10 * grey_index) as u8;
    let dist = |(x, y, z): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (a as i32 - b as i32).pow(2);
        d(x, r) + d(y, g) + d(z, b)
    };
    if dist((grey, grey, grey)) < dist(cube) {
        (232 + grey_index) as u8
    } else {
        cube_index as u8
    }
}

/// The nearest of the 16 named ANSI colours, by hue rather than by distance to one terminal's
/// shades (which vary): unsaturated colours become black, dark grey, grey or white by
/// lightness; the others the ANSI hue nearest theirs, bright when they are light.
pub fn rgb_to_16(r: u8, g: u8, b: u8) -> Color {
    let (r, g, b) = (r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let light = (max + min) / 2.0;
    let chroma = max - min;
    let sat = if chroma == 0.0 { 0.0 } else { chroma / (1.0 - (2.0 * light - 1.0).abs()) };
    if sat < 0.2 || chroma < 0.12 {
        return match light {
            l if l < 0.25 => Color::Black,
            l if l < 0.55 => Color::DarkGray,
            l if l < 0.85 => Color::Gray,
            _ => Color::White,
        };
    }
    let h = if max == r {
        60.0 * ((g - b) / chroma).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / chroma + 2.0)
    } else {
        60.0 * ((r - g) / chroma + 4.0)
    };
    let bright = light > 0.6;
    // Red 0°, yellow 60°, green 120°, cyan 180°, blue 240°, magenta 300°.
    match ((h + 30.0) / 60.0) as u32 % 6 {
        0 if bright => Color::LightRed,
        0 => Color::Red,
        1 if bright => Color::LightYellow,
        1 => Color::Yellow,
        2 if bright => Color::LightGreen,
        2 => Color::Green,
        3 if bright => Color::LightCyan,
        3 => Color::Cyan,
        4 if bright => Color::LightBlue,
        4 => Color::Blue,
        _ if bright => Color::LightMagenta,
        _ => Color::Magenta,
    }
}

/// Relative luminance bounds of [`readable`]: a contrast of at least 4:1 against black and
/// 3.75:1 against white.
const LUMINANCE: std::ops::RangeInclusive<f32> = 0.15..=0.23;

fn to_linear(c: u8) -> f32 {
    let c = c as f32 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn to_srgb(c: f32) -> u8 {
    let c = c.clamp(0.0, 1.0);
    let s = if c <= 0.0031308 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
    (s * 255.0).round() as u8
}

/// The WCAG relative luminance of an sRGB colour.
pub fn luminance((r, g, b): (u8, u8, u8)) -> f32 {
    0.2126 * to_linear(r) + 0.7152 * to_linear(g) + 0.0722 * to_linear(b)
}

/// A colour of the same hue with its luminance brought into 0.15..=0.23 (`LUMINANCE`): too light ones are
/// darkened, too dark ones lightened towards white.
pub fn readable(rgb: (u8, u8, u8)) -> (u8, u8, u8) {
    let l = luminance(rgb);
    let lin = [to_linear(rgb.0), to_linear(rgb.1), to_linear(rgb.2)];
    let out = if l > *LUMINANCE.end() {
        let k = LUMINANCE.end() / l;
        lin.map(|c| c * k)
    } else if l < *LUMINANCE.start() {
        let t = (LUMINANCE.start() - l) / (1.0 - l);
        lin.map(|c| c + t * (1.0 - c))
    } else {
        return rgb;
    };
    (to_srgb(out[0]), to_srgb(out[1]), to_srgb(out[2]))
}

static THEME: OnceLock<Theme> = OnceLock::new();

thread_local! {
    static OVERRIDE: Cell<Option<Theme>> = const { Cell::new(None) };
}

/// Selects the theme for the rest of the run; call once at startup, before drawing. Without a
/// call, `default` at 16 colours is used (tests, `print`). Returns false when a theme was
/// already in force (it stays).
pub fn init(name: Name, depth: Depth) -> bool {
    THEME.set(Theme::new(name, depth)).is_ok()
}

/// The theme in force on this thread.
pub fn current() -> Theme {
    OVERRIDE.with(|o| o.get()).unwrap_or_else(|| *THEME.get_or_init(|| Theme::new(Name::Default, Depth::Ansi16)))
}

/// Runs `f` with `theme` in force on this thread instead of the global one: renders of another
/// theme in tests, beside renders of the default.
pub fn with_theme<R>(theme: Theme, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Theme>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(theme))));
    f()
}

pub fn border(focused: bool) -> Style {
    let t = current();
    if focused {
        t.border_focused
    } else {
        t.border
    }
}
pub fn title(focused: bool) -> Style {
    let t = current();
    if focused {
        t.title_focused
    } else {
        t.title
    }
}
pub fn header() -> Style {
    current().header
}
pub fn selected(focused: bool) -> Style {
    let t = current();
    if focused {
        t.selected_focused
    } else {
        t.selected
    }
}
pub fn error() -> Style {
    current().error
}
pub fn write() -> Style {
    current().write
}
pub fn dim() -> Style {
    current().dim
}
pub fn key() -> Style {
    current().key
}
pub fn ok() -> Style {
    current().ok
}
/// Characters a bare word matched, on top of the cell's own style.
pub fn matched(base: Style) -> Style {
    base.patch(current().matched)
}
/// The timeline's bars.
pub fn bars() -> Style {
    current().bars
}
/// A detection's level, from the theme's own styles: critical and high as errors (critical
/// reversed), medium as writes, low as the bars, informational dim. The mark beside it (C, H,
/// M, L, i) says the level without colour.
pub fn level(level: crate::model::detect::Level) -> Style {
    use crate::model::detect::Level;
    use ratatui::style::Modifier;
    match level {
        Level::Critical => error().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        Level::High => error().add_modifier(Modifier::BOLD),
        Level::Medium => write().add_modifier(Modifier::BOLD),
        Level::Low => bars(),
        Level::Informational => dim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in NAMES {
            assert_eq!(by_name(n).map(Name::as_str), Some(n));
        }
        assert_eq!(by_name(" High_Contrast "), Some(Name::HighContrast));
        assert_eq!(by_name("solarized"), None);
    }

    #[test]
    fn depth_from_colorterm_and_term() {
        assert_eq!(Depth::detect(Some("truecolor"), Some("xterm")), Depth::TrueColor);
        assert_eq!(Depth::detect(Some("24bit"), None), Depth::TrueColor);
        assert_eq!(Depth::detect(None, Some("xterm-256color")), Depth::Ansi256);
        assert_eq!(Depth::detect(Some(""), Some("tmux-256color")), Depth::Ansi256);
        assert_eq!(Depth::detect(None, Some("xterm")), Depth::Ansi16);
        assert_eq!(Depth::detect(None, Some("linux")), Depth::Ansi16);
        assert_eq!(Depth::detect(None, None), Depth::Ansi16);
    }

    #[test]
    fn choosing_a_theme() {
        assert_eq!(choose(None, None, None), Ok(Name::Default));
        // NO_COLOR set and not empty: no colour; empty: ignored.
        assert_eq!(choose(None, None, Some("1")), Ok(Name::Mono));
        assert_eq!(choose(None, None, Some("")), Ok(Name::Default));
        // The program's own settings override NO_COLOR; the environment overrides the file.
        assert_eq!(choose(None, Some(Name::HighContrast), Some("1")), Ok(Name::HighContrast));
        assert_eq!(choose(Some("mono"), Some(Name::HighContrast), None), Ok(Name::Mono));
        assert_eq!(choose(Some(""), None, Some("1")), Ok(Name::Mono));
        let e = choose(Some("neon"), None, None).unwrap_err();
        assert_eq!(e.to_string(), "unknown theme \"neon\" in TRAILSCOPE_THEME (themes: default, high-contrast, mono)");
    }

    #[test]
    fn the_256_colour_palette() {
        // Exact cube and grey colours map to themselves.
        assert_eq!(rgb_to_256(0, 135, 215), 32);
        assert_eq!(rgb_to_256(215, 0, 0), 160);
        assert_eq!(rgb_to_256(0, 0, 0), 16);
        assert_eq!(rgb_to_256(255, 255, 255), 231);
        assert_eq!(rgb_to_256(128, 128, 128), 244);
        assert_eq!(rgb_to_256(238, 238, 238), 255);
        assert_eq!(rgb_to_256(8, 8, 8), 232);
        // Near greys go to the ramp, colours to the cube.
        assert_eq!(rgb_to_256(0x2b, 0x30, 0x3b), 236);
        assert_eq!(rgb_to_256(0xbf, 0x61, 0x6a), 131);
        assert_eq!(rgb_to_256(0xa3, 0xbe, 0x8c), 144);
        assert_eq!(rgb_to_256(250, 10, 10), 196);
        // Every colour of the default theme is exact in the palette.
        for rgb in
            [(0, 135, 215), (128, 128, 128), (175, 135, 0), (0, 135, 0), (215, 95, 0), (95, 135, 215), (78, 78, 78)]
        {
            let i = rgb_to_256(rgb.0, rgb.1, rgb.2);
            assert_eq!(palette_256(i), rgb, "{rgb:?} -> {i}");
        }
    }

    /// The RGB of an xterm palette index from 16 up.
    fn palette_256(i: u8) -> (u8, u8, u8) {
        if i >= 232 {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        } else {
            let i = (i - 16) as usize;
            (CUBE[i / 36], CUBE[i / 6 % 6], CUBE[i % 6])
        }
    }

    #[test]
    fn the_16_colours() {
        assert_eq!(rgb_to_16(0, 0, 0), Color::Black);
        assert_eq!(rgb_to_16(255, 255, 255), Color::White);
        assert_eq!(rgb_to_16(128, 128, 128), Color::DarkGray);
        assert_eq!(rgb_to_16(0xc0, 0xc5, 0xce), Color::Gray);
        assert_eq!(rgb_to_16(205, 0, 0), Color::Red);
        assert_eq!(rgb_to_16(255, 100, 100), Color::LightRed);
        assert_eq!(rgb_to_16(0, 135, 0), Color::Green);
        assert_eq!(rgb_to_16(175, 135, 0), Color::Yellow);
        assert_eq!(rgb_to_16(0, 135, 215), Color::Cyan);
        assert_eq!(rgb_to_16(0, 0, 215), Color::Blue);
        assert_eq!(rgb_to_16(0, 175, 175), Color::Cyan);
        assert_eq!(rgb_to_16(175, 0, 175), Color::Magenta);
        // base16-ocean's JSON colours keep their hue.
        assert_eq!(rgb_to_16(0xa3, 0xbe, 0x8c), Color::LightGreen);
        assert_eq!(rgb_to_16(0xbf, 0x61, 0x6a), Color::Red);
        assert_eq!(rgb_to_16(0xb4, 0x8e, 0xad), Color::LightMagenta);
        assert_eq!(rgb_to_16(0xd0, 0x87, 0x70), Color::LightRed);
    }

    #[test]
    fn depth_decides_the_colour() {
        assert_eq!(Depth::TrueColor.color((1, 2, 3), Some(Color::Red)), Color::Rgb(1, 2, 3));
        assert_eq!(Depth::Ansi256.color((215, 0, 0), Some(Color::Red)), Color::Indexed(160));
        assert_eq!(Depth::Ansi16.color((215, 0, 0), Some(Color::LightRed)), Color::LightRed);
        assert_eq!(Depth::Ansi16.color((215, 0, 0), None), Color::Red);
        let t = Theme::new(Name::Default, Depth::Ansi256);
        assert_eq!(t.error.fg, Some(Color::Indexed(160)));
        assert_eq!(Theme::new(Name::Default, Depth::Ansi16).error.fg, Some(Color::Red));
        assert_eq!(Theme::new(Name::Default, Depth::TrueColor).error.fg, Some(Color::Rgb(215, 0, 0)));
    }

    fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f32 {
        let (x, y) = (luminance(a) + 0.05, luminance(b) + 0.05);
        x.max(y) / x.min(y)
    }

    #[test]
    fn syntax_colours_read_on_dark_and_light() {
        // base16-ocean.dark's colours, made for a dark background.
        for rgb in [(0xa3, 0xbe, 0x8c), (0xd0, 0x87, 0x70), (0xb4, 0x8e, 0xad), (0x96, 0xb5, 0xb4), (0x65, 0x73, 0x7e)]
        {
            let r = readable(rgb);
            for bg in [(0, 0, 0), (255, 255, 255)] {
                assert!(contrast(r, bg) >= 3.7, "{rgb:?} -> {r:?} against {bg:?}: {}", contrast(r, bg));
            }
        }
        // Colours already in range are kept.
        assert_eq!(readable((0, 135, 215)), (0, 135, 215));
        // The UI colours of the default theme read on both too.
        for rgb in
            [(0, 135, 215), (128, 128, 128), (215, 0, 0), (175, 135, 0), (0, 135, 0), (215, 95, 0), (95, 135, 215)]
        {
            for bg in [(0, 0, 0), (255, 255, 255)] {
                assert!(contrast(rgb, bg) >= 3.2, "{rgb:?} against {bg:?}: {}", contrast(rgb, bg));
            }
        }
    }

    #[test]
    fn mono_has_no_colour_and_keeps_the_selection_visible() {
        let t = Theme::new(Name::Mono, Depth::TrueColor);
        for s in [
            t.border_focused,
            t.border,
            t.title_focused,
            t.title,
            t.header,
            t.selected_focused,
            t.selected,
            t.error,
            t.write,
            t.dim,
            t.key,
            t.ok,
            t.matched,
            t.bars,
        ] {
            assert_eq!((s.fg, s.bg), (None, None), "{s:?}");
        }
        assert!(t.selected_focused.add_modifier.contains(Modifier::REVERSED));
        assert!(t.title_focused.add_modifier.contains(Modifier::REVERSED));
        assert_eq!(t.syntax((255, 0, 0), false), None);
        assert_eq!(Theme::new(Name::HighContrast, Depth::TrueColor).syntax((255, 0, 0), false), None);
        assert!(Theme::new(Name::Default, Depth::TrueColor).syntax((255, 0, 0), false).is_some());
        assert_eq!(Theme::new(Name::Default, Depth::TrueColor).syntax((192, 197, 206), true), None);
        // At 16 colours syntax colours keep their hue, in the normal variant.
        let t16 = Theme::new(Name::Default, Depth::Ansi16);
        assert_eq!(t16.syntax((0xa3, 0xbe, 0x8c), false), Some(Color::Green));
        assert_eq!(t16.syntax((0xb4, 0x8e, 0xad), false), Some(Color::Magenta));
        assert_eq!(t16.syntax((0xc0, 0xc5, 0xce), false), None);
        assert_eq!(t16.syntax((0x65, 0x73, 0x7e), false), Some(Color::DarkGray));
    }

    #[test]
    fn a_thread_can_use_another_theme() {
        let mono = Theme::new(Name::Mono, Depth::TrueColor);
        let inside = with_theme(mono, error);
        assert_eq!(inside.fg, None);
        assert_eq!(current().name, THEME.get().map_or(Name::Default, |t| t.name));
    }
}
