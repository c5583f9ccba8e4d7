"""The library's refusals in Chinese: every template of errors.json, real messages from the code's own checks,
and every InputError the code raises has a template that translates it."""

import ast
import importlib
import io
import json
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from gradio.exceptions import ComponentProcessingError, InvalidPathError
from PIL import Image

from ae import i18n
from ae.i18n import CHINESE, ENGLISH, translate
from ae.inference import Engine
from ae.lab import check_settings
from ae.preprocess import InputError, open_image, preprocess
from ae.ui import checks
from ae.ui.errors import FILE_OBJECT, NOT_IN_FORM, UNFORESEEN, refusal_by_gradio
from ae.ui.inputs import EMPTY_CANVAS, NO_IMAGE, model_input
from ae.uploads import NOT_UPLOADED

ROOT = Path(__file__).resolve().parent.parent
ERRORS = json.loads((ROOT / "ae" / "locales" / "zh-CN" / "errors.json").read_text(encoding="utf-8"))
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("template", sorted(ERRORS))
def test_each_template_filled_in_translates_with_its_values_kept(template):
    values = {name: f"Q{i}7z" for i, name in enumerate(sorted(i18n.fields(template)))}
    english = template.format(**values)
    chinese = translate(english, CHINESE)
    assert chinese == ERRORS[template].format(**values)
    assert CJK.search(chinese)
    assert all(v in chinese for v in values.values())
    assert translate(english, ENGLISH) == english


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR chunk alone: what Image.open reads before it knows the size."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


def refusal(fn, *args) -> str:
    with pytest.raises(InputError) as caught:
        fn(*args)
    return str(caught.value)


def png_cut_short() -> io.BytesIO:
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(out, "PNG")
    return io.BytesIO(out.getvalue()[:200])


def real_messages() -> list[str]:
    engine = SimpleNamespace(code_size=4, low=np.zeros(4), high=np.ones(4))  # what check_code reads of an Engine
    return [
        refusal(open_image, io.BytesIO(b"not an image at all")),
        refusal(open_image, io.BytesIO(png_header(10_000, 9_000))),
        refusal(open_image, io.BytesIO(png_header(30_000, 30_000))),
        refusal(open_image, png_cut_short()),
        refusal(preprocess, Image.new("L", (28, 28), 255)),
        refusal(preprocess, np.zeros((28, 28, 2))),
        refusal(model_input, None),
        refusal(model_input, "digit.png"),
        refusal(model_input, {"path": "/etc/passwd"}),
        refusal(Engine.check_code, engine, [0.5, 0.5]),
        refusal(Engine.check_code, engine, "0.5"),
        refusal(Engine.check_code, engine, [0.5, float("nan"), 0.5, 0.5]),
        refusal(Engine.check_code, engine, [0.5, 0.5, 9.0, 0.5]),
        refusal(checks.whole, "count", 99, 1, 10),
        refusal(checks.number, "amount", -1.5, 0, 1),
        refusal(checks.choice, "kind", "blur", ("noise", "mask")),
        refusal(check_settings, {"colour": 1}),
        refusal(check_settings, ["epochs"]),
        refusal(check_settings, {"epochs": "three"}),
        refusal(check_settings, {"epochs": 2.5}),
        refusal(check_settings, {"epochs": 10_000}),
        refusal(check_settings, {"kind": "vae", "noise": 0.3}),
        refusal_by_gradio(ComponentProcessingError(
            "Could not preprocess input component at index 1 (a `Slider` component)")),
        refusal_by_gradio(ValueError("An event handler didn't receive enough input values (needed: 3, got: 1)")),
        refusal_by_gradio(InvalidPathError("Cannot move /etc/passwd to the gradio cache dir")),
        refusal_by_gradio(ValueError("Hostname example.com failed validation")),
        FILE_OBJECT, NOT_IN_FORM, UNFORESEEN, EMPTY_CANVAS, NO_IMAGE, NOT_UPLOADED,
    ]


def test_real_refusals_translate_and_stay_as_they_are_in_english():
    messages = real_messages()
    assert "This app does not fetch images from other addresses. " + NOT_UPLOADED in messages
    for english in messages:
        assert translate(english, ENGLISH) == english
        chinese = translate(english, CHINESE)
        assert CJK.search(chinese) and not re.search(r"[A-Za-z]{3,} [a-z]{3,} [a-z]{3,}", chinese), (english, chinese)
        for number in re.findall(r"\d+(?:[.,]\d+)*", english):  # the values it was made with are kept
            assert number in chinese, (english, chinese)


REFUSALS = {"InputError": 0, "Refused": 1, "respond": 2}  # what refuses with a message, and which argument it is


def test_the_note_on_an_animated_image_translates():
    out = io.BytesIO()
    frames = [Image.new("L", (28, 28), shade) for shade in (0, 255)]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    _, note = open_image(io.BytesIO(out.getvalue()))
    assert note and translate(note, ENGLISH) == note and CJK.search(translate(note, CHINESE))


def gradios_refusal(component, value) -> str:
    with pytest.raises(gr.Error) as caught:
        component.preprocess(value)
    return caught.value.message


@pytest.mark.parametrize(("component", "value"), [(gr.Number(minimum=0, maximum=1), 5),
                                                  (gr.Number(minimum=0, maximum=1), -2),
                                                  (gr.Radio(choices=["noise", "mask"]), "blur"),
                                                  (gr.Dropdown(choices=["ae-16", "vae-16"]), "ae-99")])
def test_gradios_own_refusals_of_a_value_translate(component, value):
    english = gradios_refusal(component, value)
    chinese = translate(english, CHINESE)
    assert translate(english, ENGLISH) == english
    assert CJK.search(chinese) and str(value) in chinese, (english, chinese)


def refusals_in_code() -> list[tuple[str, str]]:
    """(where, message) for each InputError(...) raised in ae/ and each answer of the request guard
    (Refused(status, ...), respond(send, status, ...)): a literal's text, an f-string's with each field filled in
    as 7, a module constant's value."""
    found = []
    for path in sorted((ROOT / "ae").rglob("*.py")):
        module = None
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            position = REFUSALS.get(getattr(node.func, "id", None)) if isinstance(node, ast.Call) else None
            if position is None or len(node.args) <= position:
                continue
            arg, where = node.args[position], f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(arg, (ast.Name, ast.Attribute, ast.Call)) and position:
                continue  # a message made elsewhere (a Refused's, too_large's): its own literal is scanned there
            if isinstance(arg, ast.Constant):
                found.append((where, arg.value))
            elif isinstance(arg, ast.JoinedStr):
                found.append((where, "".join(v.value if isinstance(v, ast.Constant) else "7" for v in arg.values)))
            elif isinstance(arg, ast.Name):
                name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                module = module or importlib.import_module(name)
                found.append((where, getattr(module, arg.id)))
            else:
                found.append((where, ast.unparse(arg)))  # a message made some other way: give it a template
    return found


def test_every_refusal_the_code_raises_has_a_template():
    found = refusals_in_code()
    assert len(found) > 70  # the scan sees the code's refusals, the guard's among them
    assert any(where.startswith("ae/ui/guard.py") for where, _ in found)
    missing = [f"{where}: {message!r}" for where, message in found if not CJK.search(translate(message, CHINESE))]
    assert not missing, "refusals without a template in ae/locales/zh-CN/errors.json:\n" + "\n".join(missing)
