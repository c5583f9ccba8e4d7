"""Every word of the page in English and in Simplified Chinese: one translation table, kept in files.

The code is written in English, and an English text is its own key: `ae/locales/zh-CN/*.json` map English
templates to their Chinese (one file per view, merged into one table when this module loads; a template in two
files must have one translation). Templates may hold `{name}` fields, which `t` fills.

- `L(template, **fields)` is for what the page is built with (labels, tab titles, headings, button texts):
  it gives a `gr.I18n` key, and the browser shows the text in the page's language; a handler may return one
  too. `tables()` is what the page's `gr.I18n` holds.
- `t(template, **fields)` is for text the server makes while serving (a status, a caption, a message): it
  translates into the visitor's language, the `LANGUAGE` of the event being served.
- `translate(text)` translates a finished English message (an `InputError` from the library, whose fields
  are already filled in) by matching it against the templates.

The visitor's language: `?lang=zh-CN` or `?lang=en` in the page's address (the page's switch sets it), else the
browser's preferred languages; Simplified Chinese (zh, zh-CN, zh-SG, zh-Hans) gets Chinese, anything else
English. ae/ui/static/language.js makes the browser side of the page decide the same way.
"""

import contextvars
import hashlib
import json
import re
import string
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ENGLISH, CHINESE = "en", "zh-CN"
LANGUAGES = (ENGLISH, CHINESE)
FOLDER = Path(__file__).resolve().parent / "locales"
LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=ENGLISH)
_SIMPLIFIED = re.compile(r"^zh(-(cn|sg|hans)(-.*)?)?$", re.IGNORECASE)


def load_table(folder: Path = FOLDER / CHINESE) -> dict[str, str]:
    """English template -> its translation, from every .json file in folder. A template translated twice, two
    ways, or a translation whose {fields} differ from the template's, is an error here, not a wrong page later."""
    table: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        for english, translated in entries.items():
            if not isinstance(translated, str) or not translated.strip():
                raise ValueError(f"{path.name}: {english!r} has no translation")
            if fields(english) != fields(translated):
                raise ValueError(f"{path.name}: {english!r} and its translation name different fields")
            if table.get(english, translated) != translated:
                raise ValueError(f"{path.name}: {english!r} is translated differently in another file")
            table[english] = translated
    return table


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


TABLE = load_table()


class Text(str):
    """What L gives: a string the browser shows translated (Gradio's marker of a gr.I18n key, which its page
    translates wherever a component shows a string: a label, a heading, a Markdown value)."""

    key: str

    def __new__(cls, key: str):
        text = super().__new__(cls, "__i18n__" + json.dumps({"__type__": "translation_metadata", "key": key}))
        text.key = key
        return text

    def __getnewargs__(self):  # a copy (Gradio deep-copies components' settings) is made from the key, not the text
        return (self.key,)


def key(text: str) -> str:
    """The gr.I18n key of an English text (no dots: the browser's i18n library reads a dot as nesting)."""
    return "ae-" + hashlib.sha1(text.encode()).hexdigest()[:12]


USED: set[str] = set()  # every template L was given, so that a test can check each has its translation
_BUILT: dict[str, tuple[str, str]] = {}  # gr.I18n key -> (English, Chinese), each filled in


def L(template: str, **values) -> Text:  # noqa: N802 (reads as the marker it is)
    """A text of the page as built (its {fields} filled in from values), shown in the page's language by the
    browser."""
    USED.add(template)
    english = t(template, ENGLISH, **values)
    _BUILT[key(english)] = (english, t(template, CHINESE, **values))
    return Text(key(english))


def in_both_languages(make) -> Text:
    """What make() says (a view's first picture in HTML, a table in Markdown), made once in English and once in
    Chinese, as a text of the page that the browser shows in the page's language (a component's value=)."""
    with speaking(ENGLISH):
        english = make()
    with speaking(CHINESE):
        chinese = make()
    _BUILT[key(english)] = (english, chinese)
    return Text(key(english))


def tables() -> dict[str, dict[str, str]]:
    """What the page's gr.I18n holds: the key of each text L made, in English and in Chinese (English where the
    table has no translation)."""
    return {ENGLISH: {k: en for k, (en, _) in _BUILT.items()}, CHINESE: {k: zh for k, (_, zh) in _BUILT.items()}}


def t(template: str, language: str | None = None, **values) -> str:
    """template in the visitor's language (or the one given), its {fields} filled in from values (an L text
    among them in the same language)."""
    language = language or LANGUAGE.get()
    text = TABLE.get(template, template) if language == CHINESE else template
    if not values:
        return text
    return text.format(**{name: in_language(v, language) for name, v in values.items()})


def in_language(value, language: str):
    """A value to fill a template with: an L text in language, anything else as it is."""
    if isinstance(value, Text) and value.key in _BUILT:
        return _BUILT[value.key][LANGUAGES.index(language)]
    return value


def _pattern(template: str) -> re.Pattern:
    parts, names = [], []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P<{name}>.+?)" if name not in names else f"(?P={name})")
            names.append(name)
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


_PATTERNS = [(english, _pattern(english)) for english in sorted(TABLE, key=len, reverse=True) if fields(english)]


def translate(text: str, language: str | None = None) -> str:
    """A finished English message in the visitor's language: its exact translation, else the translation of
    the longest template it matches, with the values it was made with; else the English as it is."""
    if (language or LANGUAGE.get()) != CHINESE:
        return text
    if text in TABLE:
        return TABLE[text]
    for english, pattern in _PATTERNS:
        if m := pattern.match(text):
            return TABLE[english].format(**m.groupdict())
    return text


def choose(address: str | None, accept_language: str | None) -> str:
    """The visitor's language: ?lang= in the page's address, else the first of the browser's preferred
    languages that is English or Chinese; Simplified Chinese gets Chinese, anything else English."""
    asked = parse_qs(urlsplit(address or "").query).get("lang", [""])[0]
    if asked in LANGUAGES:
        return asked
    for part in (accept_language or "")[:512].split(","):
        tag = part.split(";")[0].strip()
        if _SIMPLIFIED.match(tag):
            return CHINESE
        if tag.lower().startswith(("en", "zh")):
            return ENGLISH
    return ENGLISH


def language_of(request) -> str:
    """The language of a Gradio request (its page's address is the Referer of the page's calls)."""
    headers = getattr(request, "headers", None) or {}
    return choose(headers.get("referer"), headers.get("accept-language"))


@contextmanager
def speaking(language: str):
    """Serve what runs inside in language (the handler's thread inherits it, as it inherits ae.visitors.OWNER)."""
    token = LANGUAGE.set(language if language in LANGUAGES else ENGLISH)
    try:
        yield
    finally:
        LANGUAGE.reset(token)


def both(template: str, **values) -> str:
    """template in English, then in Chinese: for what is read outside the page, such as the API's descriptions."""
    english, chinese = t(template, ENGLISH, **values), t(template, CHINESE, **values)
    return english if english == chinese else f"{english}\n\n{chinese}"
