"""Markdown to safe HTML for the library's documents.

Two layers, each sufficient on its own for the usual attacks, so that a bug in one is caught by
the other. markdown-it-py (CommonMark, plus tables and strikethrough) is run with raw HTML
turned off, so ``<script>`` typed in a body comes out as text, and it refuses ``javascript:``,
``vbscript:``, ``file:`` and most ``data:`` links itself. nh3 (ammonia) then keeps only the
tags and attributes a document needs, only http(s) and mailto URLs (and only http(s) for
images), and puts ``rel="noopener noreferrer"`` on every link. Table cells' alignment, the
one piece of CSS kept, then becomes a class: the Content-Security-Policy refuses inline
styles.
"""

import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "strong", "em", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
# Markdown tables align columns with ``style="text-align:right"``; nothing else of CSS.
ALLOWED_STYLE_PROPERTIES = {"text-align"}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Images only from http(s): no ``data:``, no relative path that could point anywhere on
    this site (the API is not a place images live). Must never raise (nh3 would report it)."""
    if tag == "img" and attribute == "src":
        return value if value.lower().startswith(("http://", "https://")) else None
    return value


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer",
    filter_style_properties=ALLOWED_STYLE_PROPERTIES,
    strip_comments=True,
)


_ALIGNMENT = re.compile(r' style="text-align:(left|right|center)"')


def render_markdown(text: str) -> str:
    """The sanitised HTML of a Markdown ``text``."""
    return _ALIGNMENT.sub(r' class="align-\1"', sanitise(_parser.render(text or "")))


def sanitise(html: str) -> str:
    """``html`` with only the allowed tags, attributes and URLs left."""
    return _cleaner.clean(html)
