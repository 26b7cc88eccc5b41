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
    'a/b/' for a page, '' for the home page). False when there is no index to tune."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or not isinstance(data.get("docs"), list):
        return False
    fields = data.setdefault("config", {}).setdefault("fields", {})
    fields.setdefault(NAMES_FIELD, {"boost": NAMES_BOOST})
    for doc in data["docs"]:
        loc = doc.get("location") if isinstance(doc, dict) else None
        if isinstance(loc, str) and "#" not in loc:
            value = names.get(loc)
            if value is None and loc in ("./", ""):
                value = names.get("") or names.get("./")
            if value:
                doc[NAMES_FIELD] = value
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".search_index.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
