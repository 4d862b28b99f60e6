"""Incident Markdown: rendered, sanitised to one allow-list, never a template."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup

from statuspage import markdown
from statuspage.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    CLEAN_CONTENT_TAGS,
    LINK_REL,
    plain_text,
    render_markdown,
    render_markdown_markup,
    sanitize_html,
)

ROOT = Path(__file__).resolve().parent.parent


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def parsed_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_inert(html: str) -> None:
    """Only allow-listed tags and attributes; links only to allowed schemes."""
    for tag, attrs in parsed_tags(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset()) | ({"rel"} if tag == "a" else set())
        assert set(attrs) <= allowed, (tag, attrs, html)
        href = attrs.get("href")
        if href is not None:
            scheme = re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):", href)
            assert scheme is None or scheme.group(1).lower() in ALLOWED_URL_SCHEMES, href


# WEB-07: payloads from real status-page XSS reports.
PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "svg onload": "<svg onload=alert(1)>",
    "javascript link": "[x](javascript:alert(1))",
    "mixed-case javascript": "[x](JaVaScRiPt:alert(1))",
    "entity javascript": "[x](&#106;avascript:alert(1))",
    "data link html": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "data link markdown": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "style": "<style>body{display:none}</style>",
    "form": '<form action="https://evil.example"><input name=p></form>',
    "autolink javascript": "<javascript:alert(1)>",
    "reference javascript": "[x][r]\n\n[r]: javascript:alert(1)",
    "vbscript": "[x](vbscript:msgbox(1))",
    "image onerror": '![x](x" onerror="alert(1))',
    "title breakout": '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_markdown_payloads_come_out_inert(payload: str) -> None:
    html = render_markdown(f"Before {payload} after")
    assert_inert(html)
    assert "Before" in html
    assert "after" in html


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_sanitizer_alone_makes_raw_html_inert(payload: str) -> None:
    # Defence in depth: even if raw HTML reached the sanitiser, it is cleaned.
    html = sanitize_html(payload)
    assert_inert(html)
    assert "<script" not in html.lower()
    assert "onerror" not in html.lower() or "<img" not in html.lower()


def test_raw_html_is_shown_as_text_not_markup() -> None:
    assert render_markdown("<script>alert(1)</script>") == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    )
    assert render_markdown("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_javascript_links_are_not_links() -> None:
    for text in ("[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))"):
        html = render_markdown(text)
        assert "<a" not in html
        assert "href" not in html


def test_entity_encoded_javascript_is_plain_text() -> None:
    html = render_markdown("[x](&#106;avascript:alert(1))")
    assert "<a" not in html
    assert html == "<p>[x](javascript:alert(1))</p>\n"


def test_sanitizer_strips_dangerous_hrefs_and_handlers() -> None:
    assert sanitize_html('<a href="data:text/html,x" onclick="x()">x</a>') == (
        f'<a rel="{LINK_REL}">x</a>'
    )
    assert sanitize_html('<a href="JaVaScRiPt:alert(1)">x</a>') == f'<a rel="{LINK_REL}">x</a>'
    assert sanitize_html('<img src=x onerror="alert(1)">text') == "text"
    assert sanitize_html("<svg onload=alert(1)><p>t</p></svg>") == "<p>t</p>"
    assert sanitize_html("<script>alert(1)</script>ok") == "ok"
    assert sanitize_html("<style>p{}</style>ok") == "ok"
    assert sanitize_html('<iframe src="https://e.example"></iframe>ok') == "ok"
    assert sanitize_html("<form><input name=p><button>go</button></form>") == "go"
    assert sanitize_html('<p style="color:red" class="x" id="y">t</p>') == "<p>t</p>"
    assert sanitize_html("<!-- hidden -->ok") == "ok"


# SEC-04: incident text is data, never a template.
TEMPLATE_SYNTAX = [
    "{{ 7*7 }}",
    "{% include '/etc/passwd' %}",
    "{{ config }}",
    "${7*7}",
    "<%= 7*7 %>",
    "#{7*7}",
]


@pytest.mark.parametrize("text", TEMPLATE_SYNTAX)
def test_template_syntax_comes_out_literally(text: str) -> None:
    html = render_markdown(text)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert html == f"<p>{escaped}</p>\n"
    assert "49" not in html
    assert plain_text(text) == text


def test_template_syntax_survives_jinja_rendering() -> None:
    from jinja2 import Environment

    env = Environment(autoescape=True)
    env.filters["markdown"] = render_markdown_markup
    page = env.from_string("<div>{{ body | markdown }}</div>").render(body="{{ 7*7 }} {% if 1 %}")
    assert page == "<div><p>{{ 7*7 }} {% if 1 %}</p>\n</div>"


def test_commonmark_renders_to_the_allowed_tags() -> None:
    text = (
        "# Title\n\n## Sub\n\n### Deeper\n\n"
        'Some **bold**, *em*, `code` and [a link](https://x.example "t").\n'
        "Line two  \nhard break\n\n"
        "- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n```\nblock\n```\n\n---\n"
    )
    html = render_markdown(text)
    assert html == (
        "<h3>Title</h3>\n<h4>Sub</h4>\n<h4>Deeper</h4>\n"
        "<p>Some <strong>bold</strong>, <em>em</em>, <code>code</code> and "
        f'<a href="https://x.example" title="t" rel="{LINK_REL}">a link</a>.\n'
        "Line two<br>\nhard break</p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n"
        "<blockquote>\n<p>quoted</p>\n</blockquote>\n"
        "<pre><code>block\n</code></pre>\n<hr>\n"
    )
    assert_inert(html)


def test_links_get_rel_and_keep_allowed_schemes() -> None:
    html = render_markdown("[a](https://a.example) [m](mailto:ops@acme.example) [r](/history)")
    assert html == (
        f'<p><a href="https://a.example" rel="{LINK_REL}">a</a> '
        f'<a href="mailto:ops@acme.example" rel="{LINK_REL}">m</a> '
        f'<a href="/history" rel="{LINK_REL}">r</a></p>\n'
    )


def test_bare_urls_are_not_linkified_and_images_stay_links() -> None:
    assert render_markdown("see https://x.example") == "<p>see https://x.example</p>\n"
    assert render_markdown("![pixel](https://t.example/p.gif)") == (
        f'<p>!<a href="https://t.example/p.gif" rel="{LINK_REL}">pixel</a></p>\n'
    )


def test_fenced_code_language_class_is_dropped() -> None:
    assert render_markdown("```python\nx = 1\n```") == "<pre><code>x = 1\n</code></pre>\n"


def test_empty_text() -> None:
    assert render_markdown("") == ""
    assert render_markdown(None) == ""
    assert plain_text("") == ""
    assert plain_text(None) == ""


def test_markup_helper_returns_markup_that_jinja_does_not_escape_again() -> None:
    value = render_markdown_markup("**a** <b>")
    assert isinstance(value, Markup)
    assert str(value) == "<p><strong>a</strong> &lt;b&gt;</p>\n"


# --- plain text ---------------------------------------------------------------


def test_plain_text_drops_markup_and_keeps_links_readable() -> None:
    text = (
        "# Payments\n\n"
        "We are **investigating** an [outage](https://status.example/i/1) of `api`.\n"
        "Next line.\n\n"
        "- one\n- two\n  - nested\n\n"
        "3. third\n4. fourth\n\n"
        "> quoted\n\n"
        "```\ncode\n```\n\n"
        "Mail <ops@acme.example> or <https://acme.example>."
    )
    assert plain_text(text) == (
        "Payments\n\n"
        "We are investigating an outage (https://status.example/i/1) of api.\n"
        "Next line.\n\n"
        "- one\n- two\n  - nested\n\n"
        "3. third\n4. fourth\n\n"
        "> quoted\n\n"
        "    code\n\n"
        "Mail ops@acme.example or https://acme.example."
    )


def test_plain_text_keeps_typed_angle_brackets_literally() -> None:
    # Plain text is not HTML: the consumer escapes it where it goes.
    assert plain_text("a <script>alert(1)</script> & b") == "a <script>alert(1)</script> & b"
    assert plain_text("[x](javascript:alert(1))") == "[x](javascript:alert(1))"


def test_plain_text_for_a_title_is_one_line() -> None:
    assert plain_text("**Payments** outage") == "Payments outage"


# --- WEB-08: the policy, pinned ----------------------------------------------------


def test_sanitiser_policy_snapshot() -> None:
    """Changing what HTML may reach readers is a decision: update this
    snapshot in the same change, and say why in the review."""
    assert sorted(ALLOWED_TAGS) == [
        "a",
        "blockquote",
        "br",
        "code",
        "em",
        "h3",
        "h4",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "ul",
    ]
    assert {k: sorted(v) for k, v in ALLOWED_ATTRIBUTES.items()} == {"a": ["href", "title"]}
    assert sorted(ALLOWED_URL_SCHEMES) == ["http", "https", "mailto"]
    assert LINK_REL == "noopener noreferrer nofollow"
    assert sorted(CLEAN_CONTENT_TAGS) == ["script", "style"]
    options = markdown._parser().options
    assert (options["html"], options["linkify"], options["typographer"]) == (False, False, False)


# --- WEB-09: nothing else marks HTML safe -------------------------------------------

UNSAFE = re.compile(r"\|\s*safe\b|Markup\(|autoescape\s*(?:=\s*)?false", re.IGNORECASE)
SANITISER = ROOT / "statuspage" / "markdown.py"


def _scanned_files() -> list[Path]:
    files = []
    for folder in (ROOT / "templates", ROOT / "statuspage"):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in {".py", ".html", ".xml", ".txt", ".j2", ".jinja"}:
                files.append(path)
    return files


# Places outside the sanitiser that build HTML themselves, for speed, from
# parts each escaped with markupsafe.escape: allowed only on a line that
# says so, so a new one is a decision someone reviewed.
AUDITED = {ROOT / "statuspage" / "web" / "formatting.py"}
AUDIT_MARK = "every part escaped above or literal"


def test_only_the_sanitiser_marks_html_safe() -> None:
    offenders = []
    for path in _scanned_files():
        if path == SANITISER:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if UNSAFE.search(line) and not (path in AUDITED and AUDIT_MARK in line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "use render_markdown_markup instead:\n" + "\n".join(offenders)


def test_the_lint_pattern_catches_what_it_should() -> None:
    for line in (
        "{{ body|safe }}",
        "{{ body | safe }}",
        "{% autoescape false %}",
        "Environment(autoescape=False)",
        "return Markup(html)",
        "markupsafe.Markup(x)",
    ):
        assert UNSAFE.search(line), line
    for line in ("{{ body | markdown }}", "safe_join(a, b)", "Markup.escape(x)", "{{ safely }}"):
        assert not UNSAFE.search(line), line
    assert SANITISER.exists()
    assert len(_scanned_files()) > 10
