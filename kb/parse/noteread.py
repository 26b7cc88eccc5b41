"""Reading a note file whatever it holds: too big, unreadable or not UTF-8 gives a problem
that names the file (and the line of the first bad byte) and the fix, never a traceback.

A note that cannot be read or is over the size limit shows an error block on its page in
place of its content; a note that is not UTF-8 is shown with U+FFFD for each bad byte.
Nothing is ever written back: the file stays as it is until its author fixes it.
"""
from __future__ import annotations

import errno
import html
import os

from .diagnostics import Diagnostic

# A note over this many bytes is not parsed or rendered (Python-Markdown takes seconds per MB,
# and a page that long is not read by anyone); `kb check` and the build both say so.
NOTE_MAX_BYTES = 5 * 1024 * 1024

# Problem codes of a note file that MkDocs could not read itself.
UNUSABLE = frozenset(("unreadable", "too-large", "encoding"))

StatKey = tuple[int, int]       # (mtime in ns, size): the note cache's key


def error_body(message: str) -> str:
    """What a note's page shows in place of content that could not be used (raw HTML, which
    Python-Markdown passes through; the message escaped)."""
    return (f'<div class="kb-bad-input" role="alert"><p><strong>This note could not be shown.</strong> '
            f"{html.escape(message)}</p></div>\n")


def problems_html(problems: list[Diagnostic]) -> str:
    """The box a note's page shows above its content for problems of the file itself (frontmatter
    that could not be used, bytes that are not UTF-8): each as `kb check` prints it (the file, the
    line, the fix), escaped; raw HTML, which Python-Markdown passes through."""
    items = "".join(f"<p>{html.escape(d.format())}</p>" for d in problems)
    return (f'\n<div class="admonition failure kb-note-problems" role="alert">'
            f'<p class="admonition-title">This note has problems</p>{items}</div>\n')


def read_note(path: str | os.PathLike, rel: str) -> tuple[bytes | None, StatKey | None, Diagnostic | None]:
    """(the bytes, the cache key, the problem or None). None for the bytes where the file could
    not be used (unreadable, a symbolic link loop, over the size limit); the problem says why."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        return None, None, Diagnostic(rel, 1, 0, "error", _why_unreadable(e), "unreadable")
    try:
        st = os.fstat(fd)
        key = (st.st_mtime_ns, st.st_size)
        if st.st_size > NOTE_MAX_BYTES:
            return None, key, Diagnostic(rel, 1, 0, "error", f"the note is {st.st_size / 2**20:.1f} MB, over the "
                                         f"{NOTE_MAX_BYTES >> 20} MB limit: split it into smaller notes", "too-large")
        data = os.read(fd, st.st_size + 1)
        if len(data) > st.st_size:      # it grew (a regular file reads short only at its end)
            chunks = [data]
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            data = b"".join(chunks)
    except OSError as e:
        return None, None, Diagnostic(rel, 1, 0, "error", _why_unreadable(e), "unreadable")
    finally:
        os.close(fd)
    return data, key, (None if data.isascii() else utf8_problem(data, rel))


def utf8_problem(data: bytes, rel: str) -> Diagnostic | None:
    """The note's first byte that is not UTF-8, at its line and column, with the fix."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return Diagnostic(rel, line, col, "error",
                          f"the note is not UTF-8 (byte 0x{data[e.start]:02X} on line {line}): save it as UTF-8 "
                          "(each bad byte shows as \N{REPLACEMENT CHARACTER} until then)", "encoding")


def _why_unreadable(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "the note is a symbolic link that loops back on itself: point it at a real file or remove it"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "the note cannot be read (permission denied): make it readable, e.g. chmod u+r"
    return f"the note cannot be read ({e.strerror}): check the file"


def link_loops(top: str | os.PathLike, prefix: str) -> list[Diagnostic]:
    """Symbolic links in the vault folder that loop: a link that points (through others) back at
    itself, or a folder link to a folder that holds it (MkDocs walks the folder following links
    and never ends). `prefix` is the folder as messages show it ("notes/"). Top-level notes are
    left out: reading one that loops reports it, at the note."""
    out: list[Diagnostic] = []
    root = os.path.realpath(top)
    # (folder, as shown, the real folders above it, the last link followed to it: name, target)
    stack: list[tuple[str, str, frozenset[str], tuple[str, str] | None]] = [
        (os.fspath(top), prefix, frozenset((root,)), None)]
    reported: set[str] = set()
    while stack:
        folder, rel, above, via = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue        # an unreadable folder: MkDocs skips it too
        for e in entries:
            name = rel + e.name
            if e.is_symlink():
                try:
                    os.stat(e.path)
                except OSError as err:
                    if err.errno == errno.ELOOP and not (rel == prefix and e.name.endswith(".md")):
                        out.append(Diagnostic(name, 0, 0, "error", f"{name} is a symbolic link that loops back on "
                                              "itself: point it at a real file or remove it", "link-loop"))
                    continue
            try:
                is_dir = e.is_dir()
            except OSError:
                continue
            if not is_dir:
                continue
            real = os.path.realpath(e.path)
            link = (name, os.readlink(e.path)) if e.is_symlink() else via
            if real in above:       # the link that led here is the one to blame
                if link is not None and link[0] not in reported:
                    reported.add(link[0])
                    out.append(Diagnostic(link[0], 0, 0, "error", f"{link[0]} is a symbolic link to a folder that "
                                          f"holds it ({link[1]}): the site build would walk it forever; remove the link",
                                          "link-loop"))
                continue
            stack.append((e.path, name + "/", above | {real}, link))
    return out
