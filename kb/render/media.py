"""Images and files in a vault: `![x](/assets/images/x.png)`, `[f](assets/f.pdf)`, `<img src=...>`.

Dendron keeps notes flat in the vault folder, so a path written in a note means the same file
whether it starts at the vault root (`/assets/x.png`, as Dendron's publishing writes them) or
at the note's folder (`assets/x.png`, as its preview and Paste Image write them): both are
notes/assets/x.png. The site serves a note `a.b.c` at /a/b/c/, where neither form would find
the file (the first climbs to the host's root, which is wrong under a sub-path or file://; the
second would look in /a/b/c/assets/). So each becomes a URL relative to the page it lands on.

The Markdown handed to MkDocs carries the file as `kbasset:<vault path>` (a scheme MkDocs
leaves alone, as it does the data pages' `kbhref:`): kb itself checks that the file exists,
at the note's line and column, and `finish_html` makes it relative to the page.
"""
from __future__ import annotations

import html
import posixpath
import re
from typing import NamedTuple
from urllib.parse import quote, unquote

from ..parse.syntax import TextIndex

SCHEME = "kbasset:"


class MediaRef(NamedTuple):
    """A local image or file a note points at (a tuple: kept in the note cache as a list)."""
    line: int       # 0-based line of the URL in the body
    col: int        # 0-based column of the URL
    url: str        # as written
    path: str       # inside the vault, '/'-separated, without query or fragment
    image: bool


# `](` then a destination: <...>, or a run without spaces with balanced parentheses, then an
# optional title. The text in brackets before it is found by counting back (see _opening).
_DEST_RE = re.compile(r"\]\(\s*(?:<(?P<angle>[^<>\n]*)>|(?P<bare>(?:[^\s()<>\\]|\\.|\((?:[^\s()\\]|\\.)*\))+))"
                      r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)")
_IMG_SRC_RE = re.compile(r"<img\b[^<>]*?\ssrc\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<uq>[^\s\"'<>`=]+))",
                         re.IGNORECASE)
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# Pages, not files: Markdown links to notes are checked as links (broken-md-link), not here.
_PAGE_EXT = (".md", ".html", ".htm")


def might_have_media(body: str) -> bool:
    """Cheap test before a scan: a Markdown link or image, or an <img>."""
    return "](" in body or "<img" in body or "<IMG" in body


def vault_path(url: str, *, image: bool) -> str | None:
    """The file inside the vault that a URL written in a note names, or None where it names
    none: another host or scheme, a fragment only, a path that climbs out of the vault (left to
    MkDocs), a link to a page. A plain link (not an image) names a file only when it is written
    from the vault root (`/assets/f.pdf`) or into a folder (`assets/f.pdf`); `[x](example.com)`
    is an author's bare host name or a note, not a file."""
    url = url.strip()
    if not url or url.startswith(("#", "//", "?")) or _SCHEME_RE.match(url):
        return None
    path = unquote(re.split(r"[?#]", url, maxsplit=1)[0])
    if not path:
        return None
    rooted = path.startswith("/")
    norm = posixpath.normpath(path.lstrip("/"))
    if norm in (".", "") or norm == ".." or norm.startswith("../") or path.endswith("/"):
        return None
    if not image:
        if norm.lower().endswith(_PAGE_EXT) or not (rooted or "/" in norm):
            return None
        if not posixpath.splitext(norm)[1]:     # /notes/<id>, /tags/x: a page's URL, not a file
            return None
    return norm


def media_refs(body: str, index: TextIndex | None = None) -> list[MediaRef]:
    """Every local image and file the body points at, outside code, in order."""
    if not might_have_media(body):
        return []
    ix = index or TextIndex(body)
    out: list[MediaRef] = []
    for start, end, url, image in _destinations(body, ix):
        path = vault_path(url, image=image)
        if path is not None:
            line, col = ix.pos(start)
            out.append(MediaRef(line, col, url, path, image))
    return out


def _destinations(text: str, ix: TextIndex) -> list[tuple[int, int, str, bool]]:
    """(start, end, url, is image) of each link and image destination and <img src>, in order."""
    found: list[tuple[int, int, str, bool]] = []
    for m in _DEST_RE.finditer(text):
        if ix.in_code(m.start()):
            continue
        opening = _opening(text, m.start())
        if opening is None or ix.in_code(opening):
            continue
        if opening > 0 and text[opening - 1] == "[":    # [[wikilink]](...) is not Markdown's
            continue
        group = "angle" if m["angle"] is not None else "bare"
        image = opening > 0 and text[opening - 1] == "!"
        found.append((m.start(group), m.end(group), m[group], image))
    if "<img" in text or "<IMG" in text or "<Img" in text:
        for m in _IMG_SRC_RE.finditer(text):
            group = next(g for g in ("dq", "sq", "uq") if m[g] is not None)
            if not ix.in_code(m.start()):
                found.append((m.start(group), m.end(group), html.unescape(m[group]), True))
    found.sort()
    return found


def _opening(text: str, close: int) -> int | None:
    """Where the `[` that the `]` at `close` ends is, on the same line (brackets balanced,
    backslash escapes skipped), or None."""
    depth = 0
    i = close - 1
    # Back to the line's start, found on the way: searching for it first made each link on a
    # long line cost the whole line (quadratic in a line of 100,000 tags).
    while i >= 0 and text[i] != "\n":
        c = text[i]
        escaped = i > 0 and text[i - 1] == "\\"
        if not escaped:
            if c == "]":
                depth += 1
            elif c == "[":
                if depth == 0:
                    return i
                depth -= 1
        i -= 1
    return None


def rewrite(text: str) -> str:
    """The text with each local image and file URL as `kbasset:<vault path>` (its query and
    fragment kept): MkDocs leaves it alone, `finish_html` makes it relative to the page."""
    if not might_have_media(text):
        return text
    ix = TextIndex(text)
    out, pos = [], 0
    for start, end, url, image in _destinations(text, ix):
        path = vault_path(url, image=image)
        if path is None:
            continue
        tail = re.search(r"[?#].*$", url.strip())
        new = SCHEME + quote(path) + (tail[0] if tail else "")
        if text[start - 1:start] in "\"'" and text[start - 1:start]:    # an <img src="...">: an attribute
            new = html.escape(new, quote=True)
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


_KBASSET_RE = re.compile(r'(?P<attr>\b(?:src|href)=)(?P<q>["\'])' + SCHEME + r'(?P<path>[^"\'#?]*)(?P<tail>[^"\']*)(?P=q)')


def finish_html(content: str, page_url: str) -> str:
    """`kbasset:` URLs in a page's HTML made relative to the page (`page_url`: its directory URL
    inside the site, '' for the home page), so they work under any sub-path and from file://."""
    if SCHEME not in content:
        return content
    up = "../" * len([p for p in page_url.split("/") if p])
    return _KBASSET_RE.sub(lambda m: f'{m["attr"]}{m["q"]}{up}{m["path"]}{m["tail"]}{m["q"]}', content)


def note_media(note) -> list[MediaRef]:
    """The note's MediaRefs, found once (or as the note cache kept them)."""
    refs = note.__dict__.get("media")
    if refs is None:
        refs = note.__dict__["media"] = media_refs(note.body, note.doc.index) if note.body else []
    return refs
