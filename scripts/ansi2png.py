#!/usr/bin/env python3
"""Render a terminal screen capture (text with SGR escape sequences) to PNG.

Input is typically the output of ``tmux capture-pane -e -p -t SESSION``.
The screen is rendered as a terminal would: a fixed grid of COLS x ROWS
cells, DejaVu Sans Mono, SGR colours and attributes, double-width cells for
East Asian wide characters and emoji, and programmatically drawn box-drawing,
block-element and braille characters so that they join seamlessly between
cells.  Escape sequences other than SGR are parsed and ignored.

Usage:
    python3 scripts/ansi2png.py --cols 120 --rows 40 in.ansi out.png
    tmux capture-pane -e -p -t NAME | python3 scripts/ansi2png.py - out.png

Requires Pillow (``pip install pillow``).  The ``wcwidth`` package is used
for character widths when installed, ``unicodedata`` otherwise.
"""

import argparse
import bisect
import math
import os
import struct
import sys
import unicodedata

try:
    from PIL import Image, ImageDraw, ImageFont
except ImportError:  # pragma: no cover - depends on the environment
    sys.stderr.write(
        "ansi2png.py: the Python package Pillow is required.\n"
        "Install it with:  pip install pillow\n"
        "(or: python3 -m pip install --user pillow, or apt-get install python3-pil)\n"
    )
    sys.exit(2)

try:
    from wcwidth import wcwidth as _wcwidth
except ImportError:  # pragma: no cover
    _wcwidth = None


# --------------------------------------------------------------------------
# Colours
# --------------------------------------------------------------------------

DEFAULT_BG = (0x1E, 0x1E, 0x2E)
DEFAULT_FG = (0xCD, 0xD6, 0xF4)

# The 16 standard colours: xterm semantics (red is red, ...) with tones that
# stay readable on the dark default background.
PALETTE16 = [
    (0x45, 0x47, 0x5A),  # 0 black
    (0xE0, 0x6C, 0x75),  # 1 red
    (0x98, 0xC3, 0x79),  # 2 green
    (0xE5, 0xC0, 0x7B),  # 3 yellow
    (0x61, 0xAF, 0xEF),  # 4 blue
    (0xC6, 0x78, 0xDD),  # 5 magenta
    (0x56, 0xB6, 0xC2),  # 6 cyan
    (0xC8, 0xCC, 0xD4),  # 7 white (light grey)
    (0x7F, 0x84, 0x9C),  # 8 bright black (dark grey)
    (0xFF, 0x7A, 0x85),  # 9 bright red
    (0xB5, 0xE8, 0x90),  # 10 bright green
    (0xFF, 0xD8, 0x8A),  # 11 bright yellow
    (0x82, 0xC4, 0xFF),  # 12 bright blue
    (0xE0, 0x9C, 0xF5),  # 13 bright magenta
    (0x7F, 0xDB, 0xE6),  # 14 bright cyan
    (0xFF, 0xFF, 0xFF),  # 15 bright white
]


def _build_palette256():
    pal = list(PALETTE16)
    levels = [0, 95, 135, 175, 215, 255]
    for r in range(6):
        for g in range(6):
            for b in range(6):
                pal.append((levels[r], levels[g], levels[b]))
    for i in range(24):
        v = 8 + 10 * i
        pal.append((v, v, v))
    return pal


PALETTE256 = _build_palette256()


def parse_hex_colour(s):
    s = s.strip().lstrip("#")
    if len(s) == 3:
        s = "".join(c * 2 for c in s)
    if len(s) != 6:
        raise argparse.ArgumentTypeError("expected a colour like #1e1e2e")
    try:
        return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        raise argparse.ArgumentTypeError("expected a colour like #1e1e2e")


def blend(a, b, t):
    """Mix colour a towards b by t (0 = a, 1 = b)."""
    return tuple(int(round(a[i] + (b[i] - a[i]) * t)) for i in range(3))


# --------------------------------------------------------------------------
# Screen model and escape-sequence parser
# --------------------------------------------------------------------------

class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse",
                 "hidden", "strike", "overline")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None = default, int = palette index, tuple = RGB
        self.bg = None
        self.bold = False
        self.dim = False
        self.italic = False
        self.underline = False
        self.reverse = False
        self.hidden = False
        self.strike = False
        self.overline = False

    def key(self):
        return (self.fg, self.bg, self.bold, self.dim, self.italic,
                self.underline, self.reverse, self.hidden, self.strike,
                self.overline)


class Cell:
    __slots__ = ("text", "style", "width")

    def __init__(self, text, style, width):
        self.text = text      # grapheme (base char + combining marks)
        self.style = style    # tuple from Style.key()
        self.width = width    # 1 or 2; 0 marks the right half of a wide cell


def char_width(ch):
    cp = ord(ch)
    if _wcwidth is not None:
        w = _wcwidth(ch)
        if w >= 0:
            return w
        return 0
    if cp == 0:
        return 0
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me", "Cf") or 0x1160 <= cp <= 0x11FF or cp == 0x200B:
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


def _extended_colour(params, i):
    """Parse 38/48/58 colour arguments in semicolon form starting at
    params[i] (the 38/48/58 itself).  Returns (colour or None, next index)."""
    if i + 1 >= len(params):
        return None, len(params)
    mode = params[i + 1][0] if params[i + 1] else 0
    if mode == 5:
        if i + 2 < len(params):
            n = params[i + 2][0] if params[i + 2] else 0
            return (n if 0 <= n <= 255 else None), i + 3
        return None, len(params)
    if mode == 2:
        if i + 4 < len(params):
            rgb = tuple(min(255, (p[0] if p else 0)) for p in params[i + 2:i + 5])
            return rgb, i + 5
        return None, len(params)
    return None, i + 2


def _colon_colour(sub):
    """Parse colon sub-parameter colour form: 38:5:n, 38:2:r:g:b or
    38:2:colourspace:r:g:b.  sub excludes the leading 38/48/58."""
    if not sub:
        return None
    if sub[0] == 5 and len(sub) >= 2:
        return sub[1] if 0 <= sub[1] <= 255 else None
    if sub[0] == 2:
        vals = sub[1:]
        if len(vals) >= 4:
            vals = vals[1:4]
        else:
            vals = vals[:3]
        if len(vals) == 3:
            return tuple(min(255, v) for v in vals)
    return None


def apply_sgr(style, param_str):
    # Each parameter may carry colon-separated sub-parameters.
    params = []
    for part in param_str.split(";"):
        subs = []
        for s in part.split(":"):
            try:
                subs.append(int(s) if s else 0)
            except ValueError:
                subs.append(0)
        params.append(subs)
    if not params:
        params = [[0]]
    i = 0
    while i < len(params):
        p = params[i]
        code = p[0]
        colon = len(p) > 1
        if code == 0:
            style.reset()
        elif code == 1:
            style.bold = True
        elif code == 2:
            style.dim = True
        elif code == 3:
            style.italic = True
        elif code == 4:
            style.underline = not (colon and p[1] == 0)
        elif code == 7:
            style.reverse = True
        elif code == 8:
            style.hidden = True
        elif code == 9:
            style.strike = True
        elif code == 21:
            style.underline = True  # double underline
        elif code == 22:
            style.bold = False
            style.dim = False
        elif code == 23:
            style.italic = False
        elif code == 24:
            style.underline = False
        elif code == 27:
            style.reverse = False
        elif code == 28:
            style.hidden = False
        elif code == 29:
            style.strike = False
        elif 30 <= code <= 37:
            style.fg = code - 30
        elif code in (38, 48, 58):
            if colon:
                col = _colon_colour(p[1:])
            else:
                col, nxt = _extended_colour(params, i)
                i = nxt - 1
            if code == 38:
                style.fg = col
            elif code == 48:
                style.bg = col
            # 58 (underline colour) is parsed and ignored
        elif code == 39:
            style.fg = None
        elif 40 <= code <= 47:
            style.bg = code - 40
        elif code == 49:
            style.bg = None
        elif code == 53:
            style.overline = True
        elif code == 55:
            style.overline = False
        elif 90 <= code <= 97:
            style.fg = code - 90 + 8
        elif 100 <= code <= 107:
            style.bg = code - 100 + 8
        # anything else (blink, fonts, ...) is ignored
        i += 1


def parse_screen(text, cols, rows, tabsize=8):
    """Parse text with escape sequences into a rows x cols grid of Cells
    (None = untouched cell with default colours)."""
    grid = [[None] * cols for _ in range(rows)]
    style = Style()
    row = col = 0
    last = None  # (row, col) of the last written cell, for combining marks
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        cp = ord(ch)
        # ---- escape sequences -------------------------------------------
        if ch == "\x1b" or 0x80 <= cp <= 0x9F:
            if ch == "\x1b":
                if i + 1 >= n:
                    break
                intro = text[i + 1]
                j = i + 2
            else:  # 8-bit C1 control
                intro = chr(cp - 0x40)
                j = i + 1
            if intro == "[":  # CSI
                k = j
                while k < n and 0x30 <= ord(text[k]) <= 0x3F:
                    k += 1
                params = text[j:k]
                m = k
                while m < n and 0x20 <= ord(text[m]) <= 0x2F:
                    m += 1
                if m >= n:
                    break
                final = text[m]
                if (final == "m" and m == k and
                        not (params[:1] and params[0] in "<=>?")):
                    apply_sgr(style, params)
                i = m + 1
                continue
            if intro in "]PX^_":  # OSC, DCS, SOS, PM, APC: skip to terminator
                k = j
                while k < n:
                    c = text[k]
                    if c == "\x07" and intro == "]":
                        k += 1
                        break
                    if c == "\x9c":
                        k += 1
                        break
                    if c == "\x1b" and k + 1 < n and text[k + 1] == "\\":
                        k += 2
                        break
                    k += 1
                i = k
                continue
            # nF sequences (ESC, intermediates, final) and two-char escapes
            k = j - 1
            while k < n and 0x20 <= ord(text[k]) <= 0x2F:
                k += 1
            i = k + 1
            continue
        # ---- control characters -----------------------------------------
        if ch == "\n":
            row += 1
            col = 0
            last = None
            i += 1
            continue
        if ch == "\r":
            col = 0
            i += 1
            continue
        if ch == "\t":
            col = min(cols - 1, (col // tabsize + 1) * tabsize)
            i += 1
            continue
        if ch == "\b":
            col = max(0, col - 1)
            i += 1
            continue
        if cp < 0x20 or cp == 0x7F:
            i += 1
            continue
        # ---- printable ----------------------------------------------------
        i += 1
        w = char_width(ch)
        if w == 0:
            if last is not None:
                cell = grid[last[0]][last[1]]
                if cell is not None:
                    cell.text += ch
            continue
        if row >= rows:
            continue
        if col + w > cols:
            # no room (capture-pane never produces this); drop it
            col += w
            continue
        key = style.key()
        # Overwriting half of a wide character clears the other half.
        for c in range(col, col + w):
            old = grid[row][c]
            if old is not None and old.width == 0 and c > 0:
                grid[row][c - 1] = Cell(" ", grid[row][c - 1].style, 1)
            if old is not None and old.width == 2 and c + 1 < cols:
                grid[row][c + 1] = Cell(" ", old.style, 1)
        grid[row][col] = Cell(ch, key, w)
        if w == 2:
            grid[row][col + 1] = Cell("", key, 0)
        last = (row, col)
        col += w
    return grid


# --------------------------------------------------------------------------
# Font handling
# --------------------------------------------------------------------------

# Where DejaVuSansMono.ttf lives on common systems (Debian/Ubuntu first).
FONT_DIRS = [
    "/usr/share/fonts/truetype/dejavu",            # Debian, Ubuntu (fonts-dejavu-core)
    "/usr/share/fonts/TTF",                        # Arch (ttf-dejavu)
    "/usr/share/fonts/dejavu-sans-mono-fonts",     # Fedora
    "/usr/share/fonts/dejavu",                     # Alpine, openSUSE
    "/usr/local/share/fonts/dejavu",               # FreeBSD
    "/opt/homebrew/share/fonts",                   # macOS (brew)
    os.path.expanduser("~/Library/Fonts"),         # macOS (font-dejavu cask)
    "/Library/Fonts",
]


def find_font_dir():
    for d in FONT_DIRS:
        if os.path.exists(os.path.join(d, "DejaVuSansMono.ttf")):
            return d
    return FONT_DIRS[0]


FONT_DIR = find_font_dir()
DEFAULT_FONTS = {
    "regular": "DejaVuSansMono.ttf",
    "bold": "DejaVuSansMono-Bold.ttf",
    "italic": "DejaVuSansMono-Oblique.ttf",
    "bolditalic": "DejaVuSansMono-BoldOblique.ttf",
}

# Tried in order for characters the main font lacks (only those that exist).
FALLBACK_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansSymbols-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
    "/usr/share/fonts/opentype/unifont/unifont.otf",
    "/usr/share/fonts/truetype/unifont/unifont.ttf",
]
EMOJI_FONTS = [
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
]


def read_cmap(path, index=0):
    """Return a sorted list of (start, end) code point ranges that the font
    at path maps to a real glyph.  Handles cmap formats 4 and 12, TTC."""
    with open(path, "rb") as f:
        data = f.read()
    base = 0
    if data[:4] == b"ttcf":
        base = struct.unpack(">I", data[12 + 4 * index:16 + 4 * index])[0]
    num_tables = struct.unpack(">H", data[base + 4:base + 6])[0]
    cmap = None
    for t in range(num_tables):
        rec = base + 12 + 16 * t
        if data[rec:rec + 4] == b"cmap":
            cmap = struct.unpack(">I", data[rec + 8:rec + 12])[0]
    if cmap is None:
        return []
    nsub = struct.unpack(">H", data[cmap + 2:cmap + 4])[0]
    best = None
    for s in range(nsub):
        pid, eid, off = struct.unpack(">HHI", data[cmap + 4 + 8 * s:cmap + 12 + 8 * s])
        sub = cmap + off
        fmt = struct.unpack(">H", data[sub:sub + 2])[0]
        score = 0
        if fmt == 12 and (pid == 0 or (pid == 3 and eid == 10)):
            score = 3
        elif fmt == 4 and (pid == 0 or (pid == 3 and eid in (0, 1))):
            score = 2
        if score and (best is None or score > best[0]):
            best = (score, fmt, sub)
    if best is None:
        return []
    _, fmt, sub = best
    ranges = []
    if fmt == 12:
        ngroups = struct.unpack(">I", data[sub + 12:sub + 16])[0]
        for g in range(ngroups):
            start, end, _gid = struct.unpack(">III", data[sub + 16 + 12 * g:sub + 28 + 12 * g])
            ranges.append((start, end))
    else:
        segx2 = struct.unpack(">H", data[sub + 6:sub + 8])[0]
        seg = segx2 // 2
        ends_o = sub + 14
        starts_o = ends_o + segx2 + 2
        delta_o = starts_o + segx2
        ro_o = delta_o + segx2
        for s in range(seg):
            end = struct.unpack(">H", data[ends_o + 2 * s:ends_o + 2 * s + 2])[0]
            start = struct.unpack(">H", data[starts_o + 2 * s:starts_o + 2 * s + 2])[0]
            delta = struct.unpack(">h", data[delta_o + 2 * s:delta_o + 2 * s + 2])[0]
            ro = struct.unpack(">H", data[ro_o + 2 * s:ro_o + 2 * s + 2])[0]
            if start == 0xFFFF:
                continue
            for c in range(start, end + 1):
                if ro == 0:
                    gid = (c + delta) & 0xFFFF
                else:
                    addr = ro_o + 2 * s + ro + 2 * (c - start)
                    gid = struct.unpack(">H", data[addr:addr + 2])[0]
                    if gid:
                        gid = (gid + delta) & 0xFFFF
                if gid:
                    if ranges and ranges[-1][1] == c - 1:
                        ranges[-1] = (ranges[-1][0], c)
                    else:
                        ranges.append((c, c))
    ranges.sort()
    return ranges


class Coverage:
    def __init__(self, path):
        try:
            self.ranges = read_cmap(path)
        except Exception:  # unreadable font: assume it has everything
            self.ranges = [(0, 0x10FFFF)]
        self.starts = [r[0] for r in self.ranges]

    def has(self, cp):
        i = bisect.bisect_right(self.starts, cp) - 1
        return i >= 0 and self.ranges[i][0] <= cp <= self.ranges[i][1]


class Fonts:
    def __init__(self, size, font_dir, extra_fallbacks):
        self.size = size
        self.main = {}
        for k, name in DEFAULT_FONTS.items():
            path = os.path.join(font_dir, name)
            if os.path.exists(path):
                self.main[k] = ImageFont.truetype(path, size)
            elif k == "regular":
                sys.exit("ansi2png.py: font not found: %s (install the DejaVu fonts, e.g. "
                         "apt-get install fonts-dejavu-core, or pass --font-dir)" % path)
        for k in ("bold", "italic"):
            self.main.setdefault(k, self.main["regular"])
        self.main.setdefault("bolditalic", self.main["bold"])
        self.main_cov = Coverage(os.path.join(font_dir, DEFAULT_FONTS["regular"]))
        candidates = list(extra_fallbacks) + [os.path.join(font_dir, "DejaVuSans.ttf")] + FALLBACK_FONTS
        self.fallback_paths = []
        for p in candidates:
            if os.path.exists(p) and p not in self.fallback_paths:
                self.fallback_paths.append(p)
        self._fallbacks = None
        self.emoji_paths = [p for p in EMOJI_FONTS if os.path.exists(p)]
        self._emoji = None
        self._choice = {}

        reg = self.main["regular"]
        self.ascent, self.descent = reg.getmetrics()
        self.advance = reg.getlength("M")

    def fallbacks(self):
        if self._fallbacks is None:
            self._fallbacks = [(p, Coverage(p)) for p in self.fallback_paths]
        return self._fallbacks

    def emoji(self):
        if self._emoji is None:
            self._emoji = []
            for p in self.emoji_paths:
                try:
                    self._emoji.append((ImageFont.truetype(p, 109), Coverage(p)))
                except OSError:
                    pass
        return self._emoji

    def choose(self, cp, variant):
        """Return ('main', font) | ('fallback', path) | ('emoji', font) | None."""
        key = (cp, variant)
        if key in self._choice:
            return self._choice[key]
        res = None
        if self.main_cov.has(cp):
            res = ("main", self.main[variant])
        else:
            emoji_first = unicodedata.east_asian_width(chr(cp)) == "W" and cp >= 0x1F000
            if emoji_first:
                for font, cov in self.emoji():
                    if cov.has(cp):
                        res = ("emoji", font)
                        break
            if res is None:
                for path, cov in self.fallbacks():
                    if cov.has(cp):
                        res = ("fallback", path)
                        break
            if res is None:
                for font, cov in self.emoji():
                    if cov.has(cp):
                        res = ("emoji", font)
                        break
        self._choice[key] = res
        return res


# --------------------------------------------------------------------------
# Programmatic glyphs: box drawing, block elements, braille
# --------------------------------------------------------------------------

LIGHT, HEAVY, DOUBLE = 1, 2, 3
_WEIGHTS = {"LIGHT": LIGHT, "SINGLE": LIGHT, "HEAVY": HEAVY, "DOUBLE": DOUBLE}
_DIRS = {"UP": "u", "DOWN": "d", "LEFT": "l", "RIGHT": "r",
         "VERTICAL": "ud", "HORIZONTAL": "lr"}


def _box_arms(ch):
    """Arms (u, r, d, l weights) of a U+2500..U+257F line character, derived
    from its Unicode name; None for dashes, arcs and diagonals."""
    cp = ord(ch)
    if not 0x2500 <= cp <= 0x257F:
        return None
    name = unicodedata.name(ch, "")
    if not name.startswith("BOX DRAWINGS ") or any(
            w in name for w in ("DASH", "ARC", "DIAGONAL")):
        return None
    groups = []
    for grp in name[len("BOX DRAWINGS "):].split(" AND "):
        toks = grp.split()
        weight = None
        dirs = ""
        for t in toks:
            if t in _WEIGHTS:
                weight = _WEIGHTS[t]
            elif t in _DIRS:
                dirs += _DIRS[t]
        groups.append([weight, dirs])
    for gi, g in enumerate(groups):
        if g[0] is None:
            prev = [x[0] for x in groups[:gi] if x[0] is not None]
            nxt = [x[0] for x in groups[gi + 1:] if x[0] is not None]
            g[0] = prev[-1] if prev else (nxt[0] if nxt else LIGHT)
    arms = {"u": 0, "r": 0, "d": 0, "l": 0}
    for weight, dirs in groups:
        for d in dirs:
            arms[d] = weight
    return arms


_BOX_CACHE = {}


def box_arms(ch):
    if ch not in _BOX_CACHE:
        _BOX_CACHE[ch] = _box_arms(ch)
    return _BOX_CACHE[ch]


def is_programmatic(ch):
    cp = ord(ch)
    return (0x2500 <= cp <= 0x259F) or (0x2800 <= cp <= 0x28FF) or \
        cp in (0x1FB82, 0x1FB83, 0x1FB87, 0x1FB88)


class GlyphPainter:
    """Draws line/block/braille characters into cell rectangles."""

    SS = 4  # supersampling factor for curves and diagonals

    def __init__(self, cw, ch):
        self.cw, self.ch = cw, ch
        self.light = max(1, int(round(cw / 8.0)))
        self.heavy = max(self.light + 1, int(round(self.light * 2.5)))
        self.dgap = max(2, self.light * 2)  # offset of double lines from centre
        self._mask_cache = {}

    # Helpers: offsets within the cell of a centred line of thickness t.
    def _vx(self, t):
        return (self.cw - t) // 2

    def _hy(self, t):
        return (self.ch - t) // 2

    def thickness(self, w):
        return self.heavy if w == HEAVY else self.light

    def _lines_rects(self, arms):
        """Rectangles (x0, y0, x1, y1) in cell coordinates (x1/y1 exclusive)."""
        ch = self.ch
        rects = []
        u, r, d, l = arms["u"], arms["r"], arms["d"], arms["l"]
        L = self.light
        g = self.dgap
        cxl = self._vx(L)           # x of a light vertical line
        cyl = self._hy(L)           # y of a light horizontal line

        # Horizontal structure extent (for vertical arms to reach into).
        def h_lines():
            ws = [w for w in (l, r) if w]
            if not ws:
                return None
            tops, bots = [], []
            for w in ws:
                if w == DOUBLE:
                    tops.append(cyl - g)
                    bots.append(cyl + g + L)
                else:
                    t = self.thickness(w)
                    tops.append(self._hy(t))
                    bots.append(self._hy(t) + t)
            return min(tops), max(bots)

        def v_lines():
            ws = [w for w in (u, d) if w]
            if not ws:
                return None
            lefts, rights = [], []
            for w in ws:
                if w == DOUBLE:
                    lefts.append(cxl - g)
                    rights.append(cxl + g + L)
                else:
                    t = self.thickness(w)
                    lefts.append(self._vx(t))
                    rights.append(self._vx(t) + t)
            return min(lefts), max(rights)

        hl = h_lines()
        vl = v_lines()
        hdouble = DOUBLE in (l, r)
        vdouble = DOUBLE in (u, d)

        # ---- vertical arms ----
        for arm, opp in (("u", d), ("d", u)):
            w = arms[arm]
            if not w:
                continue
            if w == DOUBLE:
                xs = ((cxl - g, "l"), (cxl + g, "r"))
                for x, side in xs:
                    side_arm = arms[side]
                    if side_arm == DOUBLE:
                        # stop at the near line of the perpendicular double arm
                        end = (cyl - g + L) if arm == "u" else (cyl + g)
                    elif side_arm:
                        t = self.thickness(side_arm)
                        end = (self._hy(t) + t) if arm == "u" else self._hy(t)
                    elif opp:
                        end = ch if arm == "u" else 0  # straight through
                    else:
                        # corner: reach the far line of the other side
                        other = arms["r" if side == "l" else "l"]
                        if other == DOUBLE:
                            end = (cyl + g + L) if arm == "u" else (cyl - g)
                        elif other:
                            t = self.thickness(other)
                            end = (self._hy(t) + t) if arm == "u" else self._hy(t)
                        else:
                            end = (cyl + L) if arm == "u" else cyl
                    if arm == "u":
                        rects.append((x, 0, x + L, max(end, 0)))
                    else:
                        rects.append((x, min(end, ch), x + L, ch))
            else:
                t = self.thickness(w)
                x = self._vx(t)
                if hl is None:
                    mid0 = self._hy(t)
                    mid1 = mid0 + t
                    end = mid1 if arm == "u" else mid0
                elif hdouble and l and r and not opp:
                    # T-junction into a double line: stop at the near line
                    end = (cyl - g + L) if arm == "u" else (cyl + g)
                else:
                    end = hl[1] if arm == "u" else hl[0]
                if arm == "u":
                    rects.append((x, 0, x + t, end))
                else:
                    rects.append((x, end, x + t, ch))

        # ---- horizontal arms ----
        for arm, opp in (("l", r), ("r", l)):
            w = arms[arm]
            if not w:
                continue
            if w == DOUBLE:
                for y, side in ((cyl - g, "u"), (cyl + g, "d")):
                    side_arm = arms[side]
                    if side_arm == DOUBLE:
                        end = (cxl - g + L) if arm == "l" else (cxl + g)
                    elif side_arm:
                        # single perpendicular line: overlap it
                        t = self.thickness(side_arm)
                        end = (self._vx(t) + t) if arm == "l" else self._vx(t)
                    elif opp:
                        end = self.cw if arm == "l" else 0
                    else:
                        other = arms["d" if side == "u" else "u"]
                        if other == DOUBLE:
                            end = (cxl + g + L) if arm == "l" else (cxl - g)
                        elif other:
                            t = self.thickness(other)
                            end = (self._vx(t) + t) if arm == "l" else self._vx(t)
                        else:
                            end = (cxl + L) if arm == "l" else cxl
                    if arm == "l":
                        rects.append((0, y, max(end, 0), y + L))
                    else:
                        rects.append((min(end, self.cw), y, self.cw, y + L))
            else:
                t = self.thickness(w)
                y = self._hy(t)
                if vl is None:
                    mid0 = self._vx(t)
                    end = (mid0 + t) if arm == "l" else mid0
                elif vdouble and u and d and not opp:
                    end = (cxl - g + L) if arm == "l" else (cxl + g)
                else:
                    end = vl[1] if arm == "l" else vl[0]
                if arm == "l":
                    rects.append((0, y, end, y + t))
                else:
                    rects.append((end, y, self.cw, y + t))
        return rects

    def _ss_mask(self, key, painter):
        """Supersampled antialiased mask (L mode, cell sized)."""
        if key in self._mask_cache:
            return self._mask_cache[key]
        S = self.SS
        big = Image.new("L", (self.cw * S, self.ch * S), 0)
        painter(ImageDraw.Draw(big), S)
        mask = big.resize((self.cw, self.ch), Image.LANCZOS)
        self._mask_cache[key] = mask
        return mask

    def draw(self, img, draw, x0, y0, ch, fg, bg):
        """Draw ch at cell origin (x0, y0).  Returns True if handled."""
        cp = ord(ch)
        arms = box_arms(ch)
        if arms is not None:
            for (a, b, c, d) in self._lines_rects(arms):
                if c > a and d > b:
                    draw.rectangle((x0 + a, y0 + b, x0 + c - 1, y0 + d - 1), fill=fg)
            return True
        if 0x2504 <= cp <= 0x250B or 0x254C <= cp <= 0x254F:
            self._dashes(draw, x0, y0, ch, fg)
            return True
        if 0x256D <= cp <= 0x2570:
            self._arc(img, x0, y0, cp, fg)
            return True
        if 0x2571 <= cp <= 0x2573:
            self._diagonal(img, x0, y0, cp, fg)
            return True
        if 0x2580 <= cp <= 0x259F or cp in (0x1FB82, 0x1FB83, 0x1FB87, 0x1FB88):
            self._block(img, draw, x0, y0, cp, fg, bg)
            return True
        if 0x2800 <= cp <= 0x28FF:
            self._braille(img, x0, y0, cp, fg)
            return True
        return False

    def _dashes(self, draw, x0, y0, ch, fg):
        name = unicodedata.name(ch)
        n = 2 if "DOUBLE DASH" in name else 3 if "TRIPLE" in name else 4
        t = self.heavy if "HEAVY" in name else self.light
        vertical = name.endswith("VERTICAL")
        length = self.ch if vertical else self.cw
        seg = length / float(n)
        for k in range(n):
            a = int(round(k * seg))
            b = int(round((k + 1) * seg - max(1.0, seg * 0.35)))
            if b <= a:
                b = a + 1
            if vertical:
                x = x0 + self._vx(t)
                draw.rectangle((x, y0 + a, x + t - 1, y0 + b - 1), fill=fg)
            else:
                y = y0 + self._hy(t)
                draw.rectangle((x0 + a, y, x0 + b - 1, y + t - 1), fill=fg)

    def _arc(self, img, x0, y0, cp, fg):
        L = self.light

        def paint(d, S):
            cw, ch = self.cw * S, self.ch * S
            # centre of the light lines in supersampled coordinates
            cx = (self._vx(L) + L / 2.0) * S
            cy = (self._hy(L) + L / 2.0) * S
            r = min(cx, cw - cx, cy, ch - cy)
            lw = L * S
            # direction of the two arms
            down = cp in (0x256D, 0x256E)
            right = cp in (0x256D, 0x2570)
            sx = 1 if right else -1
            sy = 1 if down else -1
            # circle centre
            ox, oy = cx + sx * r, cy + sy * r
            box = (ox - r - lw / 2.0, oy - r - lw / 2.0, ox + r + lw / 2.0, oy + r + lw / 2.0)
            start = {(1, 1): 180, (-1, 1): 270, (-1, -1): 0, (1, -1): 90}[(sx, sy)]
            d.arc(box, start, start + 90, fill=255, width=int(round(lw)))
            # straight parts from the arc ends to the cell edges
            if right:
                d.rectangle((ox, cy - lw / 2.0, cw, cy + lw / 2.0 - 1), fill=255)
            else:
                d.rectangle((0, cy - lw / 2.0, ox, cy + lw / 2.0 - 1), fill=255)
            if down:
                d.rectangle((cx - lw / 2.0, oy, cx + lw / 2.0 - 1, ch), fill=255)
            else:
                d.rectangle((cx - lw / 2.0, 0, cx + lw / 2.0 - 1, oy), fill=255)

        mask = self._ss_mask(("arc", cp), paint)
        img.paste(fg, (x0, y0, x0 + self.cw, y0 + self.ch), mask)

    def _diagonal(self, img, x0, y0, cp, fg):
        def paint(d, S):
            cw, ch = self.cw * S, self.ch * S
            w = int(round(self.light * S * 1.2))
            if cp in (0x2571, 0x2573):
                d.line((cw, 0, 0, ch), fill=255, width=w)
            if cp in (0x2572, 0x2573):
                d.line((0, 0, cw, ch), fill=255, width=w)

        mask = self._ss_mask(("diag", cp), paint)
        img.paste(fg, (x0, y0, x0 + self.cw, y0 + self.ch), mask)

    def _block(self, img, draw, x0, y0, cp, fg, bg):
        cw, ch = self.cw, self.ch

        def rect(fx0, fy0, fx1, fy1, colour=fg):
            a = x0 + int(round(cw * fx0))
            b = y0 + int(round(ch * fy0))
            c = x0 + int(round(cw * fx1))
            d = y0 + int(round(ch * fy1))
            if c > a and d > b:
                draw.rectangle((a, b, c - 1, d - 1), fill=colour)

        if cp == 0x2580:
            rect(0, 0, 1, 0.5)
        elif 0x2581 <= cp <= 0x2588:
            rect(0, 1 - (cp - 0x2580) / 8.0, 1, 1)
        elif 0x2589 <= cp <= 0x258F:
            rect(0, 0, (0x2590 - cp) / 8.0, 1)
        elif cp == 0x2590:
            rect(0.5, 0, 1, 1)
        elif 0x2591 <= cp <= 0x2593:
            shade = {0x2591: 0.25, 0x2592: 0.5, 0x2593: 0.75}[cp]
            rect(0, 0, 1, 1, blend(bg, fg, shade))
        elif cp == 0x2594:
            rect(0, 0, 1, 1 / 8.0)
        elif cp == 0x2595:
            rect(7 / 8.0, 0, 1, 1)
        elif 0x2596 <= cp <= 0x259F:
            # quadrants: bit 1=UL 2=UR 4=LL 8=LR
            q = {0x2596: 4, 0x2597: 8, 0x2598: 1, 0x2599: 1 | 4 | 8,
                 0x259A: 1 | 8, 0x259B: 1 | 2 | 4, 0x259C: 1 | 2 | 8,
                 0x259D: 2, 0x259E: 2 | 4, 0x259F: 2 | 4 | 8}[cp]
            if q & 1:
                rect(0, 0, 0.5, 0.5)
            if q & 2:
                rect(0.5, 0, 1, 0.5)
            if q & 4:
                rect(0, 0.5, 0.5, 1)
            if q & 8:
                rect(0.5, 0.5, 1, 1)
        elif cp == 0x1FB82:  # upper one quarter
            rect(0, 0, 1, 0.25)
        elif cp == 0x1FB83:  # upper three eighths
            rect(0, 0, 1, 3 / 8.0)
        elif cp == 0x1FB87:  # right one quarter
            rect(0.75, 0, 1, 1)
        elif cp == 0x1FB88:  # right three eighths
            rect(5 / 8.0, 0, 1, 1)

    def _braille(self, img, x0, y0, cp, fg):
        bits = cp - 0x2800
        if bits == 0:
            return

        def paint(d, S):
            cw, ch = self.cw * S, self.ch * S
            # dot order: 1 2 3 7 in left column, 4 5 6 8 in right column
            pos = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]
            rad = min(cw / 4.0, ch / 8.0) * 0.62
            for b in range(8):
                if bits & (1 << b):
                    col, row = pos[b]
                    cx = cw * (0.27 + 0.46 * col)
                    cy = ch * (0.125 + 0.25 * row)
                    d.ellipse((cx - rad, cy - rad, cx + rad, cy + rad), fill=255)

        mask = self._ss_mask(("braille", cp), paint)
        img.paste(fg, (x0, y0, x0 + self.cw, y0 + self.ch), mask)


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

class Renderer:
    def __init__(self, args):
        self.args = args
        scale = args.scale
        self.fonts = Fonts(int(round(args.font_size * scale)), args.font_dir,
                           args.fallback_font or [])
        f = self.fonts
        self.cw = max(1, int(math.ceil(f.advance - 0.05)))
        self.ch = f.ascent + f.descent + int(round(args.line_spacing * scale))
        self.baseline = f.ascent + int(round(args.line_spacing * scale)) // 2
        self.painter = GlyphPainter(self.cw, self.ch)
        self.default_fg = args.fg
        self.default_bg = args.bg
        self.scale = scale
        self._fallback_fonts = {}
        self._emoji_cache = {}

    def resolve(self, style):
        (fg, bg, bold, dim, italic, underline, reverse, hidden, strike,
         overline) = style

        def col(c, default):
            if c is None:
                return default
            if isinstance(c, int):
                return PALETTE256[c]
            return c

        fgc = col(fg, self.default_fg)
        bgc = col(bg, self.default_bg)
        if reverse:
            fgc, bgc = bgc, fgc
        if dim:
            fgc = blend(fgc, bgc, 0.45)
        if hidden:
            fgc = bgc
        return fgc, bgc

    def _fallback_font(self, path, size):
        key = (path, size)
        if key not in self._fallback_fonts:
            self._fallback_fonts[key] = ImageFont.truetype(path, size)
        return self._fallback_fonts[key]

    def _draw_text_glyph(self, img, draw, x, y, text, width_cells, fg, variant):
        cp = ord(text[0])
        choice = self.fonts.choose(cp, variant)
        box_w = self.cw * width_cells
        if choice is None:
            # tofu: a hollow box, as terminals draw missing glyphs
            m = max(1, self.cw // 6)
            draw.rectangle((x + m, y + self.ch // 5, x + box_w - 1 - m,
                            y + self.ch - self.ch // 5), outline=fg)
            return
        kind, font = choice
        if kind == "main":
            draw.text((x, y + self.baseline), text, font=font, fill=fg, anchor="ls")
            return
        if kind == "emoji":
            self._draw_emoji(img, x, y, text, font, box_w)
            return
        # fallback font: same pixel size, shrunk if the glyph does not fit
        size = self.fonts.size
        f = self._fallback_font(font, size)
        adv = f.getlength(text)
        if adv > box_w * 1.05:
            size = max(6, int(size * box_w / adv))
            f = self._fallback_font(font, size)
            adv = f.getlength(text)
        gx = x + (box_w - adv) / 2.0
        draw.text((gx, y + self.baseline), text, font=f, fill=fg, anchor="ls")

    def _draw_emoji(self, img, x, y, text, font, box_w):
        key = (text, box_w, self.ch)
        glyph = self._emoji_cache.get(key)
        if glyph is None:
            canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
            d = ImageDraw.Draw(canvas)
            d.text((10, 10), text, font=font, embedded_color=True)
            bbox = canvas.getbbox()
            if bbox is None:
                glyph = False
            else:
                canvas = canvas.crop(bbox)
                target_h = int(self.ch * 0.92)
                target_w = box_w - max(1, self.cw // 8)
                r = min(target_w / float(canvas.width), target_h / float(canvas.height))
                glyph = canvas.resize((max(1, int(canvas.width * r)),
                                       max(1, int(canvas.height * r))), Image.LANCZOS)
            self._emoji_cache[key] = glyph
        if glyph:
            gx = x + (box_w - glyph.width) // 2
            gy = y + (self.ch - glyph.height) // 2
            img.paste(glyph, (gx, gy), glyph)

    def render(self, grid, cols, rows, title=None, cursor=None):
        a = self.args
        pad = int(round(a.padding * self.scale))
        bar_h = 0
        if title is not None:
            bar_h = int(round(28 * self.scale))
        width = cols * self.cw + 2 * pad
        height = rows * self.ch + 2 * pad + bar_h
        img = Image.new("RGB", (width, height), self.default_bg)
        draw = ImageDraw.Draw(img)
        if title is not None:
            self._title_bar(img, draw, width, bar_h, title)
        ox, oy = pad, pad + bar_h

        # resolve styles
        cells = []
        for r in range(rows):
            for c in range(cols):
                cell = grid[r][c]
                if cell is None or cell.width == 0:
                    continue
                fg, bg = self.resolve(cell.style)
                if cursor is not None and (c, r) == cursor:
                    fg, bg = bg, fg
                cells.append((r, c, cell, fg, bg))
        if cursor is not None:
            cc, cr = cursor
            if 0 <= cr < rows and 0 <= cc < cols:
                cell = grid[cr][cc]
                if cell is None:
                    x = ox + cc * self.cw
                    y = oy + cr * self.ch
                    draw.rectangle((x, y, x + self.cw - 1, y + self.ch - 1),
                                   fill=self.default_fg)

        # pass 1: backgrounds
        for r, c, cell, fg, bg in cells:
            if bg != self.default_bg:
                x = ox + c * self.cw
                y = oy + r * self.ch
                draw.rectangle((x, y, x + self.cw * cell.width - 1, y + self.ch - 1), fill=bg)
        # pass 2: glyphs and decorations
        ul_t = max(1, int(round(self.fonts.size / 14.0)))
        for r, c, cell, fg, bg in cells:
            x = ox + c * self.cw
            y = oy + r * self.ch
            style = cell.style
            bold, italic = style[2], style[4]
            text = cell.text
            if text and text != " " and not style[7]:
                if len(text) == 1 and is_programmatic(text):
                    self.painter.draw(img, draw, x, y, text, fg, bg)
                else:
                    variant = ("bold" if bold else "") + ("italic" if italic else "")
                    self._draw_text_glyph(img, draw, x, y, text, cell.width, fg,
                                          variant or "regular")
            w = self.cw * cell.width
            if style[5]:  # underline
                uy = y + self.baseline + max(1, ul_t)
                uy = min(uy, y + self.ch - ul_t)
                draw.rectangle((x, uy, x + w - 1, uy + ul_t - 1), fill=fg)
            if style[8]:  # strike-through
                sy = y + self.baseline - int(round(self.fonts.size * 0.3))
                draw.rectangle((x, sy, x + w - 1, sy + ul_t - 1), fill=fg)
            if style[9]:  # overline
                draw.rectangle((x, y, x + w - 1, y + ul_t - 1), fill=fg)
        return img

    def _title_bar(self, img, draw, width, bar_h, title):
        bar_bg = blend(self.default_bg, (0, 0, 0), 0.25)
        draw.rectangle((0, 0, width - 1, bar_h - 1), fill=bar_bg)
        draw.line((0, bar_h - 1, width - 1, bar_h - 1),
                  fill=blend(self.default_bg, (255, 255, 255), 0.08))
        # traffic-light buttons, antialiased by supersampling
        S = 4
        rad = bar_h * 0.22
        colours = [(0xFF, 0x5F, 0x57), (0xFE, 0xBC, 0x2E), (0x28, 0xC8, 0x40)]
        area = (int(bar_h * 4), bar_h)
        for k, colour in enumerate(colours):
            m = Image.new("L", (area[0] * S, area[1] * S), 0)
            cx = (bar_h * 0.6 + k * rad * 3.2) * S
            cy = bar_h / 2.0 * S
            ImageDraw.Draw(m).ellipse((cx - rad * S, cy - rad * S, cx + rad * S, cy + rad * S),
                                      fill=255)
            m = m.resize(area, Image.LANCZOS)
            img.paste(colour, (0, 0, area[0], area[1]), m)
        if title:
            path = os.path.join(self.args.font_dir, "DejaVuSans.ttf")
            if not os.path.exists(path):
                path = os.path.join(self.args.font_dir, DEFAULT_FONTS["regular"])
            font = ImageFont.truetype(path, int(round(13 * self.scale)))
            draw.text((width / 2.0, bar_h / 2.0), title, font=font,
                      fill=blend(self.default_fg, bar_bg, 0.3), anchor="mm")


def parse_cursor(s):
    try:
        c, r = s.split(",")
        return int(c), int(r)
    except ValueError:
        raise argparse.ArgumentTypeError("expected COL,ROW (0-based), e.g. 12,3")


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Render a terminal capture with SGR escapes "
                    "(tmux capture-pane -e -p) to a PNG.")
    p.add_argument("input", help="capture file, or - for standard input")
    p.add_argument("output", help="PNG file to write")
    p.add_argument("--cols", type=int, default=120, help="grid width in cells (default 120)")
    p.add_argument("--rows", type=int, default=40, help="grid height in cells (default 40)")
    p.add_argument("--font-size", type=float, default=14, help="font size in px (default 14)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="scale everything, e.g. 2 for HiDPI images (default 1)")
    p.add_argument("--line-spacing", type=int, default=0,
                   help="extra px between rows (default 0)")
    p.add_argument("--padding", type=int, default=10, help="padding in px (default 10)")
    p.add_argument("--title", default=None,
                   help="draw a window title bar with this title ('' = bar without text)")
    p.add_argument("--cursor", type=parse_cursor, default=None,
                   help="draw a block cursor at COL,ROW (0-based), "
                        "e.g. from tmux display -p '#{cursor_x},#{cursor_y}'")
    p.add_argument("--bg", type=parse_hex_colour, default=DEFAULT_BG,
                   help="default background (default #1e1e2e)")
    p.add_argument("--fg", type=parse_hex_colour, default=DEFAULT_FG,
                   help="default foreground (default #cdd6f4)")
    p.add_argument("--font-dir", default=FONT_DIR,
                   help="directory with DejaVuSansMono*.ttf (default %s)" % FONT_DIR)
    p.add_argument("--fallback-font", action="append", metavar="PATH",
                   help="extra font to try for characters DejaVu lacks (repeatable)")
    args = p.parse_args(argv)
    if args.cols < 1 or args.rows < 1:
        p.error("--cols and --rows must be positive")

    if args.input == "-":
        raw = sys.stdin.buffer.read()
    else:
        with open(args.input, "rb") as f:
            raw = f.read()
    text = raw.decode("utf-8", errors="replace")

    grid = parse_screen(text, args.cols, args.rows)
    renderer = Renderer(args)
    img = renderer.render(grid, args.cols, args.rows, title=args.title, cursor=args.cursor)
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    img.save(args.output, "PNG", optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
