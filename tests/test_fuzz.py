"""Property-based tests (hypothesis): whatever arrives, preprocessing and the endpoints give a valid 28x28
input and a finite code, or the project's own error with a message. Never another exception, never a NaN.

Derandomized, so a run is repeatable; raise AE_FUZZ_EXAMPLES to search longer.
"""

import io
import os

import gradio as gr
import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from ae.checkpoint import DEFAULT_PATH, load_checkpoint
from ae.inference import Engine, Engines
from ae.models import as_model
from ae.preprocess import FORMATS, InputError, open_image, preprocess
from ae.ui import api
from ae.ui.app_server import CallError, http_call
from ae.zoo import load_zoo

EXAMPLES = int(os.environ.get("AE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def engine():
    return Engine(as_model(load_checkpoint(DEFAULT_PATH)))


def valid_input(x) -> None:
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


def refused_clearly(e: InputError) -> None:
    assert len(str(e)) > 20, repr(e)  # a sentence for a person, not an exception's repr


arrays = st.one_of(  # any shape, dtype and value (NaN and infinities included), then image-like ones
    hnp.arrays(dtype=st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_]),
               shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40)),
    hnp.arrays(dtype=np.float32, shape=st.tuples(st.integers(1, 60), st.integers(1, 60), st.integers(1, 5)),
               elements=st.floats(-1e6, 1e6, width=32) | st.sampled_from([np.nan, np.inf, -np.inf])),
)


@FUZZ
@given(arr=arrays)
def test_any_array_becomes_an_input_and_a_finite_code_or_a_clear_refusal(engine, arr):
    try:
        x = preprocess(arr)
    except InputError as e:
        return refused_clearly(e)
    valid_input(x)
    assert np.isfinite(engine.encode(x)).all()


def encoded(fmt: str, arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.filterwarnings("ignore::UserWarning")  # PIL's decoders warn about the damage they survive
@FUZZ
@given(fmt=st.sampled_from(FORMATS), arr=hnp.arrays(np.uint8, st.tuples(st.integers(1, 48), st.integers(1, 48))),
       edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8), cut=st.floats(0.05, 1.0))
def test_damaged_files_of_every_format_give_an_input_or_a_clear_refusal(engine, fmt, arr, edits, cut):
    data = bytearray(encoded(fmt, arr))
    for where, byte in edits:  # overwrite a few bytes anywhere, header included
        data[min(int(where * len(data)), len(data) - 1)] = byte
    data = bytes(data[: max(1, int(cut * len(data)))])
    try:
        img, _ = open_image(io.BytesIO(data))
        x = preprocess(img)
    except InputError as e:
        return refused_clearly(e)
    valid_input(x)
    assert np.isfinite(engine.encode(x)).all()


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_are_refused_clearly(data):
    try:
        img, _ = open_image(io.BytesIO(data))
        preprocess(img)
    except InputError as e:
        refused_clearly(e)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=70) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=80,
)


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory):
    return api.endpoints(Engines(load_zoo().catalogue), trusted=(tmp_path_factory.mktemp("trusted"),))


ANSWERS = {  # what each endpoint answers when it does not refuse
    "decode": lambda out: np.asarray(Image.open(out.path)).shape == (28, 28),
    "encode": lambda code: len(code) == 64 and np.isfinite(code).all(),
}


@pytest.mark.parametrize("name", ANSWERS)
@FUZZ
@given(value=json_values)
def test_the_endpoints_take_any_json_and_answer_or_say_why_not(endpoints, name, value):
    try:
        out = endpoints[name](value)
    except gr.Error as e:
        assert e.message and len(e.message) > 20
    else:
        assert ANSWERS[name](out)


@FUZZ
@given(model=json_values)
def test_a_model_name_may_be_any_json_and_is_answered_or_refused_with_the_names(endpoints, model):
    try:
        out = endpoints["decode"]([0.0] * 64, model)
    except gr.Error as e:
        assert "Unknown model" in e.message and "ae-64" in e.message and len(e.message) < 400
    else:
        assert model in (None, "", "ae-64", "ae-denoise", "pca-64") and ANSWERS["decode"](out)


@pytest.mark.slow
@settings(max_examples=EXAMPLES // 2, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(["encode", "decode", "reconstruct"]), value=json_values)
def test_any_json_over_http_gets_an_answer_or_a_message(server, name, value):
    with httpx.Client(base_url=server.url, timeout=120) as http:
        try:
            http_call(http, name, [value])
        except CallError as e:
            assert e.message and len(e.message) > 20, e.message
        assert len(http_call(http, "decode", [[0.0] * 64])) == 1  # and it keeps serving
