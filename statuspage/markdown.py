"""Incident text: Markdown in, safe HTML (or plain text) out.

Incident bodies are data typed by people, never a template: they are parsed
as CommonMark with raw HTML disabled (`<b>` shows as the text `<b>`), then
the HTML is cleaned by nh3 to the one allow-list below. The page, the feeds,
the emails and the webhooks all call `render_markdown`, so they agree.

This is the only module allowed to mark a string as safe HTML (a lint test
enforces it): templates use `render_markdown_markup`, never `|safe`.
"""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

# --- the sanitiser policy: the one place that says what HTML may reach a
# reader. A snapshot test pins it; changing it is a reviewed decision.
ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "code",
        "pre",
        "ul",
        "ol",
        "li",
        "a",
        "blockquote",
        "h3",
        "h4",
        "hr",
    }
)
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {"a": frozenset({"href", "title"})}
ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
# Removed together with their content, not unwrapped to text.
CLEAN_CONTENT_TAGS: frozenset[str] = frozenset({"script", "style"})

# Markdown headings sit under the incident's own title, so `#` becomes h3.
_HEADING_TAGS = {"h1": "h3", "h2": "h4", "h3": "h4", "h4": "h4", "h5": "h4", "h6": "h4"}


@cache
def _parser() -> MarkdownIt:
    # html=False: raw HTML in the text is escaped, not passed through.
    # Images are off: a tracking pixel in an email is not ours to send;
    # `![alt](url)` stays a visible link instead.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return md.disable("image")


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        strip_comments=True,
    )


def sanitize_html(html: str) -> str:
    """Clean any HTML to the allow-list (defence in depth behind the parser)."""
    return _cleaner().clean(html)


def render_markdown(text: str | None) -> str:
    """CommonMark -> HTML that holds only allow-listed tags, attributes and
    URL schemes. Template syntax (`{{ 7*7 }}`) comes out literally."""
    if not text:
        return ""
    md = _parser()
    tokens = md.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING_TAGS[token.tag]
    return sanitize_html(md.renderer.render(tokens, md.options, {}))


def render_markdown_markup(text: str | None) -> Markup:
    """`render_markdown` for Jinja: already clean, so marked safe here, the
    one place that may do it. Register it as a template filter."""
    return Markup(render_markdown(text))  # noqa: S704 -- sanitised by nh3 just above


# --- plain text ---------------------------------------------------------------


def plain_text(text: str | None) -> str:
    """The Markdown as readable plain text, for email text parts, titles
    and notifications: markup dropped, links as `text (url)`, list markers
    kept. Not HTML-escaped: whoever puts it into HTML escapes it."""
    if not text:
        return ""
    lines: list[str] = []
    lists: list[list[int]] = []  # per open list: [ordered?, next number]
    quote = 0
    marker: str | None = None
    for token in _parser().parse(text):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrGet("start") or 1)
            lists.append([1 if kind == "ordered_list_open" else 0, start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                lines.append("")
        elif kind == "list_item_open":
            ordered, number = lists[-1]
            marker = f"{number}. " if ordered else "- "
            lists[-1][1] += 1
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
            lines.append("")
        elif kind in ("inline", "fence", "code_block"):
            body = _inline_text(token) if kind == "inline" else _indent(token.content)
            indent = "  " * max(len(lists) - 1, 0)
            for i, line in enumerate(body.split("\n")):
                lead = marker if (i == 0 and marker) else ("  " if lists else "")
                lines.append("> " * quote + indent + lead + line)
            marker = None
            if kind != "inline":
                lines.append("")
        elif kind == "hr":
            lines.extend(["> " * quote + "---", ""])
        elif kind in ("paragraph_close", "heading_close") and not token.hidden:
            lines.append("")
    return _squeeze(lines)


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    hrefs: list[tuple[str, int]] = []  # (href, where the link text starts)
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "link_open":
            hrefs.append((str(child.attrGet("href") or ""), len(parts)))
        elif child.type == "link_close" and hrefs:
            href, start = hrefs.pop()
            label = "".join(parts[start:])
            # `<https://x>` or a mailto whose text is the address: say it once.
            if href and href not in (label, f"mailto:{label}"):
                parts.append(f" ({href})")
    return "".join(parts)


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.rstrip("\n").split("\n"))


def _squeeze(lines: list[str]) -> str:
    """Join lines, with at most one blank line between blocks."""
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")
