"""Markdown rendering, and the sanitiser against the usual XSS payloads.

Whatever a document's author types, the HTML that reaches a browser must not run script: no
script or style element, no event handler attribute, no javascript:/vbscript:/data: URL, no
frame, object, form, SVG or MathML element."""

import re
from html.parser import HTMLParser

import pytest

from sharing.library.markdown import render_markdown, sanitise

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src="x" onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    '<body onload="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">clic</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">clic</math>',
    "<style>body { background: url(javascript:alert(1)) }</style>",
    '<div style="background-image: url(javascript:alert(1))">x</div>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>Envoyer</button></form>',
    '<a href="javascript:alert(1)">clic</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<details open ontoggle=alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->",
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](javascript&#58;alert(1))",
    "[clic](javascript&#x3A;alert(1))",
    "[clic](&#106;avascript:alert(1))",
    "[clic](java\tscript:alert(1))",
    "[clic]( javascript:alert(1))",
    "[clic](vbscript:msgbox(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](data:image/png;base64,iVBORw0KGgo=)",
    "![img](javascript:alert(1))",
    '![img](https://example.org/a.png"onerror="alert(1))',
    '[clic](https://example.org "titre" onmouseover="alert(1)")',
    "[clic][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<a href='https://example.org' onclick='alert(1)'>lien</a>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<<script>script>alert(1)<</script>/script>",
    '<img """><script>alert(1)</script>">',
    "<IMG SRC=`javascript:alert(1)`>",
]

SAFE_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td",
}  # fmt: skip
SAFE_ATTRIBUTES = {"href", "title", "src", "alt", "start", "class", "rel"}


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_harmless(html: str) -> None:
    """Only the allowed elements; no handler, no script URL, no CSS but text alignment."""
    for tag, attributes in Elements(html).found:
        assert tag in SAFE_TAGS, (tag, html)
        for name, value in attributes:
            assert name in SAFE_ATTRIBUTES, (name, html)
            value = (value or "").strip().lower()
            if name in ("href", "src"):
                assert value.startswith(("https://", "http://", "mailto:", "/", "#")), html
                if name == "src":
                    assert value.startswith(("https://", "http://")), html
            assert name != "style", html  # the CSP refuses inline styles
            if name == "class":
                assert re.fullmatch(r"align-(left|right|center)", value), html
            if name == "rel":
                assert value == "noopener noreferrer"


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_survives(payload):
    assert_harmless(render_markdown(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payloads_inside_a_document_are_shown_as_text_or_dropped(payload):
    html = render_markdown(f"Avant.\n\n{payload}\n\nAprès.")

    assert "<p>Avant.</p>" in html
    assert "Après." in html
    assert_harmless(html)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_the_sanitiser_alone_stops_payloads_given_as_html(payload):
    """If the Markdown parser ever let raw HTML through, nh3 would still stop it."""
    assert_harmless(sanitise(payload))


def test_raw_html_is_shown_as_text():
    assert render_markdown("<b>gras</b> et <script>x</script>") == (
        "<p>&lt;b&gt;gras&lt;/b&gt; et &lt;script&gt;x&lt;/script&gt;</p>\n"
    )


def test_links_get_noopener_noreferrer():
    html = render_markdown("Voir [le guide](https://www.lemouvementdesregies.org/guide).")

    assert html == (
        '<p>Voir <a href="https://www.lemouvementdesregies.org/guide" '
        'rel="noopener noreferrer">le guide</a>.</p>\n'
    )


def test_a_rel_or_target_in_html_is_replaced():
    html = sanitise('<a href="https://example.org" rel="opener" target="_blank">x</a>')

    assert html == '<a href="https://example.org" rel="noopener noreferrer">x</a>'


def test_mailto_links_and_http_images_are_kept():
    html = render_markdown(
        "[écrire](mailto:contact@regie.example) ![Logo](https://example.org/l.png)"
    )

    assert '<a href="mailto:contact@regie.example" rel="noopener noreferrer">écrire</a>' in html
    assert '<img src="https://example.org/l.png" alt="Logo">' in html


def test_images_without_http_source_lose_their_source():
    for source in (
        "/static/logo.png",
        "logo.png",
        "ftp://example.org/l.png",
        "//example.org/l.png",
    ):
        html = render_markdown(f"![Logo]({source})")
        assert "src=" not in html, html
        assert 'alt="Logo"' in html


def test_commonmark_tables_and_strikethrough():
    text = """# Titre

## Sous-titre

Du **gras**, de l'*italique*, du ~~barré~~ et du `code`.

1. premier
2. second

> Une citation.

| Outil | Prix |
|:------|-----:|
| Binette | 25 € |

---
"""
    html = render_markdown(text)

    for fragment in (
        "<h1>Titre</h1>",
        "<h2>Sous-titre</h2>",
        "<strong>gras</strong>",
        "<em>italique</em>",
        "<s>barré</s>",
        "<code>code</code>",
        "<ol>\n<li>premier</li>",
        "<blockquote>",
        '<th class="align-left">Outil</th>',
        '<td class="align-right">25 €</td>',
        "<hr>",
    ):
        assert fragment in html, fragment


def test_table_cells_keep_only_their_alignment_as_a_class():
    html = render_markdown("| a |\n|:-:|\n| b |")

    assert '<th class="align-center">a</th>' in html
    assert "style" not in html


def test_empty_body():
    assert render_markdown("") == ""
