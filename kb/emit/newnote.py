"""`kb new`: a note file with Dendron's frontmatter."""
from __future__ import annotations

import json
import re
import secrets
import string
import time
from pathlib import Path

import yaml

from ..parse.vault import title_from_fname

ID_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 23     # Dendron's ids: 23 lowercase letters and digits

# Characters that would break a wikilink (`# | [ ] ^`), a path, or YAML-free file names.
_BAD_CHARS = re.compile(r"[\s/\\#|\[\]^:*?\"<>{}]")


class UsageError(ValueError):
    """The user asked for something malformed (exit 2)."""


def new_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def validate_fname(fname: str, what: str = "FNAME") -> str:
    """The fname itself, or UsageError saying what is wrong with it and how to write it."""
    if not fname:
        raise UsageError(f"{what} is empty; give a dotted note name such as hardware.gpu.t4")
    if fname.endswith(".md"):
        raise UsageError(f'{what} "{fname}" is a file name; give the note name without .md: "{fname[:-3]}"')
    bad = _BAD_CHARS.search(fname)
    if bad:
        raise UsageError(f'{what} "{fname}" contains {bad[0]!r}; use letters, digits, "-" and "_" '
                         f'in dot-separated parts, e.g. hardware.gpu.t4')
    if any(part == "" for part in fname.split(".")):
        raise UsageError(f'{what} "{fname}" has an empty part (a leading, trailing or double "."); '
                         f'e.g. hardware.gpu.t4')
    if fname.split(".")[-1] == "*":
        raise UsageError(f'{what} "{fname}" is a wildcard; name one note')
    return fname


def yaml_scalar(text: str) -> str:
    """`text` as a one-line YAML scalar: plain when YAML reads it back unchanged, else quoted."""
    if text and text == text.strip() and "\n" not in text and not text.startswith(("'", '"')):
        try:
            if yaml.safe_load(text) == text and ": " not in text and " #" not in text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)   # a JSON string is a valid YAML double-quoted scalar


def frontmatter(title: str, nid: str | None = None, now_ms: int | None = None) -> str:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return (f"---\nid: {nid or new_id()}\ntitle: {yaml_scalar(title)}\ndesc: ''\n"
            f"updated: {now}\ncreated: {now}\n---\n\n")


def create_note(notes_dir: Path, fname: str, title: str | None = None) -> Path:
    """Write notes_dir/FNAME.md; FileExistsError if it exists (never overwritten)."""
    validate_fname(fname)
    notes_dir.mkdir(parents=True, exist_ok=True)
    path = notes_dir / f"{fname}.md"
    text = frontmatter(title if title else title_from_fname(fname))
    # Mode "x" fails atomically if the file appeared meanwhile: never clobber a note.
    with open(path, "x", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return path
