"""The page in English and in Chinese: the table, the language chosen, and every text the code names translated."""

import ast
import json
import re
from pathlib import Path

import httpx
import pytest

from ae import i18n
from ae.i18n import CHINESE, ENGLISH, choose, load_table, translate
from ae.ui.app_server import CallError, http_call, open_view
from ae.ui.language import SCRIPT, with_script
from ae.ui.lesson import VIEWS

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
MARKERS = {"L", "t", "both"}  # ae.i18n's: their first argument is a template of the table


def templates_in_code() -> list[tuple[str, int, str]]:
    """(file, line, template) of every L, t and both call in the app's code whose first argument is a string."""
    found = []
    for path in [ROOT / "app.py", *sorted((ROOT / "ae").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in MARKERS:
                if node.args and isinstance(node.args[0], ast.JoinedStr):
                    found.append((str(path.relative_to(ROOT)), node.lineno, None))  # an f-string: never a template
                elif node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    found.append((str(path.relative_to(ROOT)), node.lineno, node.args[0].value))
    return found


def test_every_text_the_code_marks_has_its_chinese():
    found = templates_in_code()
    assert len(found) > 20  # the scan sees the page's texts
    f_strings = [f"{f}:{line}" for f, line, template in found if template is None]
    assert not f_strings, f"a template must be a plain string (fields filled in by the call): {f_strings}"
    missing = [f"{f}:{line}: {template!r}" for f, line, template in found if template not in i18n.TABLE]
    assert not missing, "texts without a translation in ae/locales/zh-CN:\n" + "\n".join(missing)


def test_every_translation_is_chinese_with_the_same_fields():
    assert i18n.TABLE
    for english, chinese in i18n.TABLE.items():
        if re.search(r"[a-z]{3}", re.sub(r"\{[^}]*\}", "", english)):
            assert CJK.search(chinese), f"{english!r} -> {chinese!r} is not Chinese"
        assert i18n.fields(english) == i18n.fields(chinese)


def test_a_table_with_conflicts_or_other_fields_is_refused(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"Code size {n}": "编码大小 {n}"}), encoding="utf-8")
    assert load_table(tmp_path) == {"Code size {n}": "编码大小 {n}"}
    (tmp_path / "b.json").write_text(json.dumps({"Code size {n}": "编码 {n}"}), encoding="utf-8")
    with pytest.raises(ValueError, match="translated differently"):
        load_table(tmp_path)
    (tmp_path / "b.json").write_text(json.dumps({"Model {name}": "模型 {model}"}), encoding="utf-8")
    with pytest.raises(ValueError, match="different fields"):
        load_table(tmp_path)
    (tmp_path / "b.json").write_text(json.dumps({"Model": " "}), encoding="utf-8")
    with pytest.raises(ValueError, match="no translation"):
        load_table(tmp_path)


def test_t_fills_in_fields_in_the_language_asked(monkeypatch):
    monkeypatch.setitem(i18n.TABLE, "{n} numbers in the code", "编码里有 {n} 个数")
    assert i18n.t("{n} numbers in the code", ENGLISH, n=16) == "16 numbers in the code"
    assert i18n.t("{n} numbers in the code", CHINESE, n=16) == "编码里有 16 个数"
    assert i18n.t("no such text", CHINESE) == "no such text"  # English where the table has none
    with i18n.speaking(CHINESE):
        assert i18n.t("{n} numbers in the code", n=2) == "编码里有 2 个数"
    assert i18n.t("{n} numbers in the code", n=2) == "2 numbers in the code"


def test_a_finished_message_is_translated_with_its_values(monkeypatch):
    template = "The image is {w}x{h} pixels; at most {limit} are read."
    monkeypatch.setitem(i18n.TABLE, template, "图片是 {w}x{h} 像素；最多读取 {limit}。")
    monkeypatch.setattr(i18n, "_PATTERNS", [(template, i18n._pattern(template))])
    message = "The image is 9000x9000 pixels; at most 24,000,000 are read."
    assert translate(message, CHINESE) == "图片是 9000x9000 像素；最多读取 24,000,000。"
    assert translate(message, ENGLISH) == message
    assert translate("A message the table does not hold.", CHINESE) == "A message the table does not hold."


def test_l_gives_keys_the_browser_translates_in_both_languages():
    title = i18n.L("Code sizes")
    pointer = i18n.L("Next: {title} →", title=title)
    built = i18n.tables()
    assert built[ENGLISH][pointer.key] == "Next: Code sizes →"
    assert built[CHINESE][pointer.key] == "下一步：编码大小 →"  # the field in Chinese too
    assert "." not in pointer.key  # the browser's i18n library reads a dot as nesting


@pytest.mark.parametrize("address, accept, expected", [
    ("http://x/?lang=zh-CN", "en-US,en;q=0.9", CHINESE),  # the switch wins
    ("http://x/?lang=en", "zh-CN,zh;q=0.9", ENGLISH),
    ("http://x/", "zh-CN,zh;q=0.9,en;q=0.8", CHINESE),
    ("http://x/", "zh-Hans-CN", CHINESE),
    ("http://x/", "zh", CHINESE),
    ("http://x/", "zh-TW,zh;q=0.9", ENGLISH),  # Traditional Chinese: the page has no such table
    ("http://x/", "fr-FR,zh-CN;q=0.8", CHINESE),  # the first that is English or Chinese
    ("http://x/", "en-GB,zh-CN;q=0.8", ENGLISH),
    ("http://x/?lang=../../etc", None, ENGLISH),  # anything else asked: English
    (None, None, ENGLISH),
    ("http://x/", "zh-CN;" * 10_000, CHINESE),  # a long header is read only so far
])
def test_the_language_is_the_switch_else_the_browser(address, accept, expected):
    assert choose(address, accept) == expected


def test_the_language_script_goes_ahead_of_gradio():
    html = b"<!doctype html><html><head><meta charset=utf-8><script type=module src=app.js></script></head></html>"
    changed = with_script(html)
    assert changed.index(SCRIPT) < changed.index(b"app.js")
    assert with_script(b"no head here") == b"no head here"


def test_the_page_is_served_with_the_language_script_and_both_tables(server):
    page = httpx.get(server.url, timeout=60)
    assert page.status_code == 200 and SCRIPT.decode() in page.text
    assert page.text.index(SCRIPT.decode()) < page.text.index('type="module"')
    tables = httpx.get(server.url + "config", timeout=60).json()["i18n_translations"]
    english, chinese = tables[ENGLISH], tables[CHINESE]
    assert english.keys() == chinese.keys() and len(english) > 20
    untranslated = [english[k] for k in english if re.search(r"[A-Za-z]{3}", english[k]) and english[k] == chinese[k]]
    assert not untranslated, f"shown in English to a Chinese reader: {untranslated[:10]}"


def test_a_refusal_is_told_in_the_callers_language(server):
    bad = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}
    for headers, chinese in [({"accept-language": "zh-CN"}, True), ({"referer": server.url + "?lang=zh-CN"}, True),
                             ({"accept-language": "en"}, False), ({}, False)]:
        with httpx.Client(base_url=server.url, timeout=120, headers=headers) as http:
            with pytest.raises(CallError) as refused:
                http_call(http, "reconstruct", [bad])
        assert bool(CJK.search(refused.value.message)) == chinese, (headers, refused.value.message)


# Four or more English words in a row: a sentence, or a label, left in English. Names are single words (MNIST,
# PCA, ae-16) and pass.
ENGLISH_RUN = re.compile(r"[A-Za-z][a-z]+(?:[ ,:;'’()-]+[A-Za-z][a-z]+){3,}")


def english_runs(text: str) -> list[str]:
    return ENGLISH_RUN.findall(text)


def test_english_runs_are_found_and_names_pass():
    assert english_runs("自编码器 ae-16 的 MNIST 测试 MSE 0.0096，PCA") == []
    assert english_runs("编码 Draw one digit, large, in the middle") == ["Draw one digit, large, in the middle"]


@pytest.mark.slow
def test_no_view_shows_an_english_sentence_in_chinese(server, request):
    from ae.ui.app_server import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    browser = request.getfixturevalue("browser")
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page.goto(server.url)
    page.locator("#recon img").wait_for(timeout=180_000)  # the first digit, rebuilt, before any input
    seen = {}
    for _, key, _, _ in VIEWS:
        open_view(page, key)
        page.wait_for_timeout(500)
        panel = page.locator("[role=tabpanel]:visible").first
        seen[key] = english_runs(panel.inner_text())
    header = english_runs(page.locator("body").inner_text().split(panel.inner_text())[0])
    page.close()
    left = {key: runs for key, runs in seen.items() if runs}
    assert not left and not header, f"English left in the Chinese page: {left} {header}"


def test_a_copied_text_is_the_same_text():
    import copy
    import pickle

    text = i18n.L("Code sizes")
    for copied in (copy.deepcopy(text), copy.copy(text), pickle.loads(pickle.dumps(text))):
        assert copied == text and copied.key == text.key  # Gradio deep-copies labels; once wrapped, twice, shown raw
