"""The sidebar for one page: the path from home, siblings and children; never the whole tree.

Material renders the full navigation into every page (O(pages x nav)); this keeps a
page's size independent of the vault's. Long sibling lists are windowed around the
page; the parent page lists them all.
"""
from __future__ import annotations

import html

from .hierarchy import ROOT, Hierarchy, relative_url

WINDOW = 12     # siblings shown on each side of the current page
MAX_CHILDREN = 25


def _item(h: Hierarchy, here: str, fname: str, *, active: bool = False, inner: str = "", title: str = "") -> str:
    cls = "md-nav__item" + (" md-nav__item--active" if active else "")
    link_cls = "md-nav__link" + (" md-nav__link--active" if active else "")
    aria = ' aria-current="page"' if active else ""
    title = title or h.title_html(fname)
    href = html.escape(relative_url(here, fname), quote=True)
    return f'<li class="{cls}"><a class="{link_cls}" href="{href}"{aria}><span class="md-ellipsis">{title}</span></a>{inner}</li>'


def _more(h: Hierarchy, here: str, parent: str, hidden: int) -> str:
    href = html.escape(relative_url(here, parent) + "#kb-children", quote=True)
    return (f'<li class="md-nav__item kb-nav-more"><a class="md-nav__link" href="{href}">'
            f'<span class="md-ellipsis">… {hidden} more</span></a></li>')


def _list(items: list[str]) -> str:
    return '<ul class="md-nav__list">' + "".join(items) + "</ul>"


def local_nav(h: Hierarchy, fname: str, site_name: str = "") -> str:
    """Home, then each level from the top down to the page: a window of siblings, the path expanded.
    The sidebar's title is the site name: a home page titled the same is listed as "Home"."""
    path = [a for a in h.ancestors(fname) if a != ROOT] + ([fname] if fname != ROOT else [])
    same = ROOT in h.pages and site_name.strip().casefold() == h.pages[ROOT].title.strip().casefold()
    home = _item(h, fname, ROOT, active=(fname == ROOT), title="Home" if same else "") if ROOT in h.pages else ""
    if not path:
        return _list([home]) + _level(h, fname, ROOT, None, [])
    return _list([home]) + _level(h, fname, path[0].rsplit(".", 1)[0] if "." in path[0] else ROOT, path[0], path[1:])


def _level(h: Hierarchy, here: str, parent: str, focus: str | None, rest: list[str]) -> str:
    sibs = h.nav_children(parent)
    if focus is not None and focus not in sibs:     # a nav_exclude page still sees itself
        sibs = [s for s in h.pages[parent].children if h.pages[s].in_nav or s == focus]
    i = sibs.index(focus) if focus in sibs else 0
    lo, hi = max(0, i - WINDOW), min(len(sibs), i + WINDOW + 1)
    items = []
    for s in sibs[lo:hi]:
        inner = ""
        if s == focus:
            if rest:
                inner = f'<nav class="md-nav" aria-label="{h.title_html(s)}">' + _level(h, here, s, rest[0], rest[1:]) + "</nav>"
            else:
                kids = h.nav_children(s)
                shown = [_item(h, here, c) for c in kids[:MAX_CHILDREN]]
                if len(kids) > MAX_CHILDREN:
                    shown.append(_more(h, here, s, len(kids) - MAX_CHILDREN))
                inner = (f'<nav class="md-nav kb-nav-children" aria-label="Pages under {h.title_html(s)}">' + _list(shown) + "</nav>"
                         if shown else "")
        items.append(_item(h, here, s, active=(s == here), inner=inner))
    hidden = len(sibs) - (hi - lo)
    if hidden:
        items.append(_more(h, here, parent, hidden))
    return _list(items)
