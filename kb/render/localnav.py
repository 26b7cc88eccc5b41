"""The sidebar for one page: the path from home, siblings and children; never the whole tree.

Material renders the full navigation into every page (O(pages x nav)); this keeps a
page's size independent of the vault's. Long sibling lists are windowed around the
page; the parent page lists them all.
"""
from __future__ import annotations

from ..link.hierarchy import ROOT, Hierarchy, _segments, relative_url

WINDOW = 12     # siblings shown on each side of the current page
MAX_CHILDREN = 25

# Links are relative URLs made of percent-encoded segments (kb.link.hierarchy.href_of), "..", "."
# and "/": nothing in them to escape in an attribute.


def _item(h: Hierarchy, here: str, fname: str, *, active: bool = False, inner: str = "", title: str = "",
          href: str = "") -> str:
    if active:
        return (f'<li class="md-nav__item md-nav__item--active"><a class="md-nav__link md-nav__link--active" '
                f'href="{href or relative_url(here, fname)}" aria-current="page"><span class="md-ellipsis">'
                f'{title or h.title_html(fname)}</span></a>{inner}</li>')
    return (f'<li class="md-nav__item"><a class="md-nav__link" href="{href or relative_url(here, fname)}">'
            f'<span class="md-ellipsis">{title or h.title_html(fname)}</span></a>{inner}</li>')


def _child_href(here: str, child: str) -> str:
    seg = _segments(child)
    return seg[-1] + "/" if seg[:-1] == _segments(here) else ""


def _more(h: Hierarchy, here: str, parent: str, hidden: int) -> str:
    href = relative_url(here, parent) + "#kb-children"
    return (f'<li class="md-nav__item kb-nav-more"><a class="md-nav__link" href="{href}">'
            f'<span class="md-ellipsis">… {hidden} more</span></a></li>')


def local_nav(h: Hierarchy, fname: str, site_name: str = "") -> str:
    """Home, then each level from the top down to the page: a window of siblings, the path expanded.
    The sidebar's title is the site name: a home page titled the same is listed as "Home"."""
    path = [a for a in h.ancestors(fname) if a != ROOT] + ([fname] if fname != ROOT else [])
    same = ROOT in h.pages and site_name.strip().casefold() == h.pages[ROOT].title.strip().casefold()
    home = _item(h, fname, ROOT, active=(fname == ROOT), title="Home" if same else "") if ROOT in h.pages else ""
    out = ['<ul class="md-nav__list">', home, "</ul>"]
    if not path:
        _level(h, fname, ROOT, None, [], out)
    else:
        _level(h, fname, path[0].rsplit(".", 1)[0] if "." in path[0] else ROOT, path[0], path[1:], out)
    return "".join(out)


def _level(h: Hierarchy, here: str, parent: str, focus: str | None, rest: list[str], out: list[str]) -> None:
    sibs = h.nav_children(parent)
    if focus is not None and focus not in sibs:     # a nav_exclude page still sees itself
        sibs = [s for s in h.pages[parent].children if h.pages[s].in_nav or s == focus]
    i = sibs.index(focus) if focus in sibs else 0
    lo, hi = max(0, i - WINDOW), min(len(sibs), i + WINDOW + 1)
    at, above = _segments(here), _segments(parent)
    # From here to the parent's folder, then a sibling's last segment: where both are filed
    # under it by name (not so where names differ from their parents' only in case).
    up = "../" * (len(at) - len(above)) if at[:len(above)] == above else None
    out.append('<ul class="md-nav__list">')
    for s in sibs[lo:hi]:
        if s == focus:
            if rest:
                start = len(out)
                _level(h, here, s, rest[0], rest[1:], out)
                inner = f'<nav class="md-nav" aria-label="{h.title_html(s)}">' + "".join(out[start:]) + "</nav>"
                del out[start:]
            else:
                kids = h.nav_children(s)    # here's own children
                shown = [_item(h, here, c, href=_child_href(here, c) if s == here else "") for c in kids[:MAX_CHILDREN]]
                if len(kids) > MAX_CHILDREN:
                    shown.append(_more(h, here, s, len(kids) - MAX_CHILDREN))
                inner = (f'<nav class="md-nav kb-nav-children" aria-label="Pages under {h.title_html(s)}">'
                         '<ul class="md-nav__list">' + "".join(shown) + "</ul></nav>" if shown else "")
            out.append(_item(h, here, s, active=(s == here), inner=inner))
        else:   # not on the path to here: the parent's folder, then its own segment
            seg = _segments(s)
            out.append(_item(h, here, s, href=up + seg[-1] + "/" if up is not None and seg[:-1] == above else ""))
    hidden = len(sibs) - (hi - lo)
    if hidden:
        out.append(_more(h, here, parent, hidden))
    out.append("</ul>")
