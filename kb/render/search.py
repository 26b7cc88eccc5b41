"""Search ranking: the page about a thing comes first.

Material's search index (search/search_index.json, lunr) scores a word in a title a thousand
times a word in the text, so a section titled "trn1.32xlarge against inf2.48xlarge" beat the
page about Inf2. kb adds one field, `names`, to each note's first entry: what the note is
called (the last part of its name) and every data cell value that data/links.yml links to it
(`inf2.48xlarge` for hardware.aws.inf2, `g4dn.xlarge` for hardware.gpu.t4). It weighs more
than a title and less than a tag. Pages under `data` (the data overview and the pages that
show a data set) get a lower boost than notes: the note about a thing ranks above the table
that lists it.
"""
from __future__ import annotations

import html
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

NAMES_FIELD = "names"
NAMES_BOOST = 1e4          # title 1e3, text 1, tags 1e6 (Material's defaults)
DATA_BOOST = 0.5           # a page under `data`, against 1 for any other page


def page_boost(fname: str) -> float | None:
    """The search boost of a page, None where it is the default."""
    return DATA_BOOST if fname == "data" or fname.startswith("data.") else None


def names_of(fname: str, linked: Iterable[str] = ()) -> str:
    """The `names` field of a note: the last part of its name and the values linked to it,
    escaped as the rest of the index is (Material treats its fields as HTML)."""
    values = [fname.rsplit(".", 1)[-1], *sorted(set(linked))]
    return " ".join(html.escape(v) for v in dict.fromkeys(values) if v.strip())


def tune_index(path: Path, names: Mapping[str, str]) -> bool:
    """Add the `names` field to the search index at `path` (locations as MkDocs writes them:
    'a/b/' for a page, '' for the home page). False when there is no index to tune.

    The index (22 MB at 10,000 notes) is rewritten one entry at a time, never held parsed
    whole; an index not laid out as Material writes it is read whole, with the same result."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".search_index.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            done = _tune_streamed(text, names, f)
        if not done:
            with open(tmp, "w", encoding="utf-8") as f:
                done = _tune_whole(text, names, f)
        if done:
            os.replace(tmp, path)
            return True
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    Path(tmp).unlink(missing_ok=True)
    return False


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _add_names(doc: object, names: Mapping[str, str]) -> None:
    loc = doc.get("location") if isinstance(doc, dict) else None
    if isinstance(loc, str) and "#" not in loc:
        value = names.get(loc)
        if value is None and loc in ("./", ""):
            value = names.get("") or names.get("./")
        if value:
            doc[NAMES_FIELD] = value     # type: ignore[index]


def _add_field(config: dict) -> None:
    config.setdefault("fields", {}).setdefault(NAMES_FIELD, {"boost": NAMES_BOOST})


def _tune_whole(text: str, names: Mapping[str, str], out) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    if not isinstance(data, dict) or not isinstance(data.get("docs"), list):
        return False
    _add_field(data.setdefault("config", {}))
    for doc in data["docs"]:
        _add_names(doc, names)
    json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
    return True


_SPACE = re.compile(r"[ \t\n\r]*")


def _tune_streamed(text: str, names: Mapping[str, str], out) -> bool:
    """What _tune_whole writes, written as the text is read: False (out then holds a part) where
    the text is not one object of distinct keys, its `config` an object of objects and its
    `docs` a list."""
    decode = json.JSONDecoder().raw_decode

    def skip(pos: int) -> int:
        return _SPACE.match(text, pos).end()    # type: ignore[union-attr]

    try:
        pos = skip(0)
        if text[pos:pos + 1] != "{":
            return False
        pos = skip(pos + 1)
        seen: set[str] = set()
        out.write("{")
        while text[pos:pos + 1] != "}":
            key, pos = decode(text, pos)
            if not isinstance(key, str) or key in seen:
                return False
            pos = skip(pos)
            if text[pos:pos + 1] != ":":
                return False
            pos = skip(pos + 1)
            out.write(("," if seen else "") + _dumps(key) + ":")
            seen.add(key)
            if key == "docs":
                if text[pos:pos + 1] != "[":
                    return False
                pos = skip(pos + 1)
                out.write("[")
                first = True
                while text[pos:pos + 1] != "]":
                    doc, pos = decode(text, pos)
                    _add_names(doc, names)
                    out.write(("" if first else ",") + _dumps(doc))
                    first = False
                    pos = skip(pos)
                    if text[pos:pos + 1] == ",":
                        pos = skip(pos + 1)
                        if text[pos:pos + 1] == "]":
                            return False
                    elif text[pos:pos + 1] != "]":
                        return False
                pos += 1
                out.write("]")
            else:
                value, pos = decode(text, pos)
                if key == "config":
                    if not isinstance(value, dict) or not isinstance(value.get("fields", {}), dict):
                        return False
                    _add_field(value)
                out.write(_dumps(value))
            pos = skip(pos)
            if text[pos:pos + 1] == ",":
                pos = skip(pos + 1)
                if text[pos:pos + 1] == "}":
                    return False
            elif text[pos:pos + 1] != "}":
                return False
        if "docs" not in seen or skip(pos + 1) != len(text):
            return False
        if "config" not in seen:
            out.write(',"config":' + _dumps({"fields": {NAMES_FIELD: {"boost": NAMES_BOOST}}}))
        out.write("}")
        return True
    except ValueError:
        return False
