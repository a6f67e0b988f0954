"""Cleaning text from real exports: HTML tags and entities, mojibake (UTF-8 read as Windows-1252) and glued sentences.

>>> clean_text("<p>Beneficiariesâ€™ costs&nbsp;are covered.Scope:All</p>")
'Beneficiaries’ costs are covered. Scope: All'
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser


def _byte_chars() -> dict[int, str]:
    """The character each byte 0x80-0xFF shows as when UTF-8 is misread as Windows-1252 (Latin-1 where undefined)."""
    out = {}
    for b in range(0x80, 0x100):
        try:
            out[b] = bytes([b]).decode("cp1252")
        except UnicodeDecodeError:
            out[b] = bytes([b]).decode("latin-1")
    return out


@lru_cache(maxsize=1)
def _mojibake() -> tuple[re.Pattern[str], dict[str, int]]:
    chars = _byte_chars()

    def cls(lo: int, hi: int) -> str:
        return "[" + "".join(re.escape(chars[b]) for b in range(lo, hi + 1)) + "]"

    cont = cls(0x80, 0xBF)
    pattern = re.compile(f"{cls(0xC2, 0xDF)}{cont}|{cls(0xE0, 0xEF)}{cont}{{2}}|{cls(0xF0, 0xF4)}{cont}{{3}}")
    return pattern, {c: b for b, c in chars.items()}


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 text that was decoded as Windows-1252 ('â€™' -> '’', 'Ã©' -> 'é'); leave everything else alone.

    Only sequences that form valid UTF-8 once turned back into bytes are replaced, twice at most (double encoding).
    """
    if text.isascii():
        return text
    try:  # fast path: every non-ASCII character is part of a misread sequence
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        pass
    pattern, byte_of = _mojibake()

    def repair(match: re.Match[str]) -> str:
        raw = bytes(byte_of[c] for c in match.group())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return match.group()

    for _ in range(2):
        if text.isascii():
            break
        fixed = pattern.sub(repair, text)
        if fixed == text:
            break
        text = fixed
    return text


_BLOCK = frozenset("p br div li ul ol tr td th h1 h2 h3 h4 h5 h6 table section article".split())


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """Text content of an HTML fragment, entities decoded; block elements become line breaks."""
    if "<" not in text and "&" not in text:
        return text
    parser = _TextParser()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


_INVISIBLE = (("\ufeff", ""), ("\u200b", ""), ("\u200c", ""), ("\u200d", ""), ("\u00ad", ""), ("\u00a0", " "))
# The portal's export drops the space after a full stop or colon where a tag ended: "costs.Scope:the".
_GLUED = re.compile(r"[.:;?!](?=[A-Za-z])")


def _unglue(match: re.Match[str]) -> str:
    mark, start = match.group(), match.start()
    before, after = match.string[start - 1 : start], match.string[match.end()]
    glued = (before.islower() or before.isdigit() or before in ")]") and after.isupper()
    glued |= mark in ":;" and (before.islower() or before in ")]") and after.islower()
    return mark + " " if glued else mark


def clean_text(text: str) -> str:
    """Mojibake repaired, HTML stripped, invisible characters dropped, whitespace squeezed to single spaces."""
    text = strip_html(fix_mojibake(text))
    for char, replacement in _INVISIBLE:
        text = text.replace(char, replacement)
    return " ".join(_GLUED.sub(_unglue, text).split())


def clip_sentences(text: str, limit: int) -> str:
    """At most `limit` characters, cut after the last full sentence that fits (or at a word)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind("? "), head.rfind("! "))
    if end >= limit // 2:
        return head[: end + 1]
    return head.rsplit(" ", 1)[0] + " …"
