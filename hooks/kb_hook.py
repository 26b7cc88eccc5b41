"""MkDocs hook: turns the Dendron vault in docs_dir and the CSVs in data/ into the site.

Thin on purpose: all the work is in the `kb` package (installed with the project),
which knows nothing of MkDocs except kb.emit.mkdocs_adapter.
"""
from mkdocs.plugins import event_priority

from kb.emit.mkdocs_adapter import KbAdapter

_kb = KbAdapter()

on_startup = _kb.on_startup
on_config = _kb.on_config
on_files = _kb.on_files
on_env = _kb.on_env
on_nav = _kb.on_nav
on_page_read_source = _kb.on_page_read_source
on_page_markdown = _kb.on_page_markdown
on_page_content = _kb.on_page_content


@event_priority(-100)   # last: after the search plugin has read the page's content
def on_page_context(context, page, config, nav):
    return _kb.on_page_context(context, page, config, nav)


@event_priority(-100)   # after the search plugin has written its index
def on_post_build(config):
    return _kb.on_post_build(config)
