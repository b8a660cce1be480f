"""Lesson Markdown to Telegram HTML: the supported subset, nothing unsafe, pages that fit."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from questline.adapters.telegram.markdown import render_pages

TELEGRAM_TAGS = {"b", "i", "s", "code", "pre", "a", "blockquote"}


class TagChecker(HTMLParser):
    """Fails on a tag Telegram does not accept or on tags that do not nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in TELEGRAM_TAGS, tag
        assert all(name in {"href", "class"} for name, _ in attrs), attrs
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def well_formed(page: str) -> str:
    """The page's text, after checking that its markup is Telegram's and balanced."""
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.open == []
    return "".join(checker.text)


def test_the_supported_subset() -> None:
    source = (
        "# Loops\n\nA *for* loop repeats **a block**: `for i in range(3)`, ~~goto~~.\n\n"
        "1. first\n2. second\n   - nested\n\n> a quote\n\n```python\nif x < 1:\n    pass\n```\n"
    )
    [page] = render_pages(source, 3000)
    assert page == (
        "<b>Loops</b>\n\n"
        "A <i>for</i> loop repeats <b>a block</b>: <code>for i in range(3)</code>, <s>goto</s>.\n\n"
        "1. first\n2. second\n    • nested\n\n"
        "<blockquote>a quote</blockquote>\n\n"
        '<pre><code class="language-python">if x &lt; 1:\n    pass</code></pre>'
    )


def test_raw_html_is_text_and_only_safe_links_are_links() -> None:
    source = (
        '<b onclick="x()">hi</b> [docs](https://docs.python.org/?a=1&b=2) '
        '[bad](javascript:alert(1)) [ftp](ftp://example.org) ![cat](http://example.org/cat.png "t")'
    )
    [page] = render_pages(source, 3000)
    assert page.startswith('&lt;b onclick="x()"&gt;hi&lt;/b&gt; ')
    assert '<a href="https://docs.python.org/?a=1&amp;b=2">docs</a>' in page
    assert "javascript" in page and 'href="javascript' not in page
    assert 'href="ftp' not in page and "ftp" in page
    assert '<a href="http://example.org/cat.png">cat</a>' in page
    well_formed(page)


def test_plain_text_lessons_read_as_before() -> None:
    assert render_pages("if, elif and else choose which block runs.", 3000) == [
        "if, elif and else choose which block runs."
    ]
    assert render_pages("", 3000) == [""]


def test_long_content_is_paged_between_blocks() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 60 for n in range(20)]
    pages = render_pages("\n\n".join(paragraphs), 1000)
    assert len(pages) > 1
    assert all(len(page) <= 1000 for page in pages)
    assert "\n\n".join(pages) == "\n\n".join(p.strip() for p in paragraphs)


def test_a_block_longer_than_a_page_is_cut_into_plain_pieces() -> None:
    code = "```\n" + "\n".join(f"print({n}) & more" for n in range(200)) + "\n```"
    pages = render_pages(code, 500)
    assert len(pages) > 1 and all(len(page) <= 500 for page in pages)
    for page in pages:
        assert "&amp;" in page and "<" not in page  # plain, escaped text
    words = " ".join(unescape(page) for page in pages).split()
    assert words[:3] == ["print(0)", "&", "more"] and words[-1] == "more"


@given(source=st.text(max_size=600), limit=st.integers(min_value=40, max_value=400))
def test_every_page_fits_and_is_well_formed(source: str, limit: int) -> None:
    for page in render_pages(source, limit):
        assert len(page) <= limit
        well_formed(page)


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгд", min_size=1, max_size=40)
"""Words no longer than the smallest page: only a word longer than a page is ever cut."""


@given(
    words=st.lists(WORD, min_size=1, max_size=200),
    separators=st.lists(st.sampled_from([" ", "\n", "\n\n"]), min_size=200, max_size=200),
    limit=st.integers(min_value=40, max_value=400),
)
def test_paging_never_loses_or_reorders_words(
    words: list[str], separators: list[str], limit: int
) -> None:
    source = "".join(word + separator for word, separator in zip(words, separators, strict=False))
    pages = render_pages(source, limit)
    assert " ".join(well_formed(page) for page in pages).split() == words
