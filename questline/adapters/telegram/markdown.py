"""Lesson content: CommonMark turned into the HTML subset Telegram accepts, cut into pages.

Raw HTML in the source is shown as text, never passed through; links keep only web, mail and
Telegram addresses. Telegram has no headings or lists, so headings become bold lines and list
items bulleted or numbered lines. Pages break between blocks; a block too long for one page is
cut at spaces into plain-text pieces, so every page is well-formed on its own.
"""

from __future__ import annotations

import re
from html import escape, unescape

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tg://")
PARAGRAPH = "\n\n"

_parser = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
_WRAPS = {"em": "i", "strong": "b", "s": "s"}
_TAG = re.compile(r"<[^>]+>")
_LANGUAGE = re.compile(r"[A-Za-z0-9_+-]{1,32}")


def esc(text: str) -> str:
    return escape(text, quote=False)


def render_pages(source: str, limit: int) -> list[str]:
    """`source` as Telegram HTML pages of at most `limit` characters each (one page if short)."""
    pieces = [
        piece
        for block in SyntaxTreeNode(_parser.parse(source)).children
        for piece in _fit(_block(block, depth=0), limit)
    ]
    pages: list[str] = []
    for piece in pieces:
        if pages and len(pages[-1]) + len(PARAGRAPH) + len(piece) <= limit:
            pages[-1] += PARAGRAPH + piece
        else:
            pages.append(piece)
    return pages or [""]


def _fit(html: str, limit: int) -> list[str]:
    """`html` itself when it fits, else its text in escaped pieces cut at spaces."""
    if len(html) <= limit:
        return [html]
    pieces: list[str] = []
    current = ""
    for word in _plain(html).split(" "):
        for part in _hard_cut(esc(word), limit):
            joined = f"{current} {part}" if current else part
            if len(joined) <= limit:
                current = joined
                continue
            pieces.append(current)
            current = part
    return [*pieces, current] if current else pieces


def _plain(html: str) -> str:
    return unescape(_TAG.sub("", html))


def _hard_cut(escaped: str, limit: int) -> list[str]:
    """An escaped word longer than a page, cut without splitting an entity like `&amp;`."""
    parts: list[str] = []
    while len(escaped) > limit:
        cut = limit
        entity = escaped.rfind("&", max(0, cut - 5), cut)
        if entity > 0 and ";" not in escaped[entity:cut]:
            cut = entity
        parts.append(escaped[:cut])
        escaped = escaped[cut:]
    return [*parts, escaped]


def _block(node: SyntaxTreeNode, depth: int) -> str:
    match node.type:
        case "paragraph":
            return _inline_of(node)
        case "heading":
            return f"<b>{_inline_of(node)}</b>"
        case "bullet_list" | "ordered_list":
            return "\n".join(_item(item, depth) for item in node.children)
        case "blockquote":
            inner = PARAGRAPH.join(_block(child, depth) for child in node.children)
            return f"<blockquote>{inner}</blockquote>"
        case "fence":
            code = esc(node.content.rstrip("\n"))
            language = node.info.split(" ", 1)[0] if node.info else ""
            if _LANGUAGE.fullmatch(language):
                return f'<pre><code class="language-{language}">{code}</code></pre>'
            return f"<pre>{code}</pre>"
        case "code_block":
            return f"<pre>{esc(node.content.rstrip(chr(10)))}</pre>"
        case "hr":
            return "———"
        case _:
            return esc(node.content)


def _item(item: SyntaxTreeNode, depth: int) -> str:
    marker = f"{item.info}." if item.info else "•"
    lines = []
    for child in item.children:
        if child.type in ("bullet_list", "ordered_list"):
            lines.append(_block(child, depth + 1))
        else:
            lines.append(_block(child, depth))
    body = "\n".join(lines)
    return f"{'    ' * depth}{marker} {body}"


def _inline_of(node: SyntaxTreeNode) -> str:
    return "".join(_inline(child) for inline in node.children for child in inline.children)


def _inline(node: SyntaxTreeNode) -> str:
    inner = "".join(_inline(child) for child in node.children)
    match node.type:
        case "text" | "html_inline":
            return esc(node.content)
        case "code_inline":
            return f"<code>{esc(node.content)}</code>"
        case "em" | "strong" | "s":
            tag = _WRAPS[node.type]
            return f"<{tag}>{inner}</{tag}>"
        case "link":
            return _link(str(node.attrs.get("href", "")), inner)
        case "image":
            return _link(str(node.attrs.get("src", "")), inner or esc(node.content))
        case "softbreak":
            return " "
        case "hardbreak":
            return "\n"
        case _:
            return inner


def _link(address: str, text: str) -> str:
    if address.lower().startswith(SAFE_SCHEMES):
        return f'<a href="{escape(address, quote=True)}">{text}</a>'
    return text
