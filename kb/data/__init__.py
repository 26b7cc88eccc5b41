"""Live data: `table` and `chart` blocks computed from data/*.csv, and data/links.yml.

Authors write YAML in a fenced block; nothing they write (nor anything in a CSV) is
executed. No MkDocs here: the hook adapts this to MkDocs, `kb check` uses check_block.
"""
from .context import DataContext
from .render import BlockResult, check_block, render_block
from .store import READS as CSV_READS, clear_cache

__all__ = ["DataContext", "BlockResult", "render_block", "check_block", "CSV_READS", "clear_cache"]
