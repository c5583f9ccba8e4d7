"""Code sizes, Generate, Denoise and Classify as built: what each shows before any input (the first digit), the
convolutional autoencoder's row in Code sizes, the plain names of the kinds of damage, and their Chinese."""

import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

import ae.i18n as i18n
from ae.ui import classifier, denoise, generate, sizes
from ae.ui.context import Context, first_digit

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def built():
    """Each of the four views built into one page (without the first view's state) around a known first digit; the
    components by elem_id."""
    from ae.inference import Engines
    from ae.zoo import load_zoo
    from app import EXAMPLES

    zoo = load_zoo()
    first, _ = first_digit(EXAMPLES, seed=1)
    with gr.Blocks() as demo:
        current, chosen = gr.State(None), gr.State(None)
        ctx = Context(zoo, Engines(zoo.catalogue), EXAMPLES, current=current, chosen=chosen, first=first)
        for view in (sizes, generate, denoise, classifier):
            with gr.Tab(view.__name__):
                view.build(ctx)
    return {b.elem_id: b for b in demo.blocks.values() if getattr(b, "elem_id", None)}, ctx


def english(value: str) -> str:
    """What a view shows an English reader: a first picture made in both languages is a key of the page's table."""
    if isinstance(value, str) and value.startswith("__i18n__"):
        return i18n.tables()[i18n.ENGLISH][json.loads(value[len("__i18n__"):])["key"]]
    return value


def test_code_sizes_shows_the_first_digit_at_every_size_with_the_conv_row(built):
    blocks, ctx = built
    table = english(blocks["sizes-table"].value)
    assert table.count("<img") == 6 + 2 + 6  # six autoencoders, the convolutional one at 16 and 64, six PCAs
    assert table.count("<td>—</td>") == 4  # the convolutional autoencoder at 2, 4, 8 and 32
    assert "convolutional autoencoder" in table and "Draw, upload" not in table
    rows = sizes.with_conv(ctx.zoo, __import__("ae.zoo").zoo.reconstructions_by_size(ctx.zoo, ctx.first), ctx.first)
    conv = {r["code_size"]: r["conv_mse"] for r in rows if "conv" in r}
    assert set(conv) == {16, 64} and conv[64] < conv[16]
    assert f"MSE {conv[16]:.4f}" in table  # the same handler made the value
    assert english(blocks["sizes-plot"].value).count('<polyline') == 3  # autoencoder, conv (2 points), PCA


def test_denoise_shows_the_first_digit_damaged_and_repaired(built):
    blocks, _ = built
    strip = english(blocks["denoise-strip"].value)
    assert strip.count("<figcaption>") == 5 and strip.count("<figcaption>clean</figcaption>") == 1
    assert strip.count("<figcaption>") - 1 == strip.count("<br>MSE 0.") // 2
    assert "Draw, upload" not in strip  # an MSE under each repair (in its alt text too)


def test_the_kinds_of_damage_have_plain_names_and_keep_their_values(built):
    blocks, _ = built
    choices = blocks["noise-kind"].choices
    assert [value for _, value in choices] == ["gaussian", "salt_pepper", "occlusion"]
    names = [label.key for label, _ in choices]
    english = {k: en for k, (en, _) in i18n._BUILT.items()}
    assert [english[k] for k in names] == ["Grain (Gaussian noise)", "Salt and pepper", "A covered patch"]
    assert [i18n._BUILT[k][1] for k in names] == ["颗粒（高斯噪声）", "椒盐噪声", "遮住一块"]


def test_classify_names_the_first_digit_and_generate_shows_a_batch(built):
    blocks, _ = built
    assert 'class="digit-guess"' in english(blocks["classify-result"].value)
    assert blocks["gen-grid"].value is not None and blocks["gen-normal"].value is not None


def test_what_the_handlers_say_is_in_chinese(built):
    _, ctx = built
    x = np.asarray(ctx.first, dtype=np.float32)
    with i18n.speaking(i18n.CHINESE):
        table = sizes.table_html(sizes.with_conv(ctx.zoo, __import__("ae.zoo").zoo.reconstructions_by_size(
            ctx.zoo, x), x))
        said = i18n.t("The code says: {digit} ({sure} sure)", digit="7", sure="90%")
    assert "卷积自编码器" in table and "编码中的数" in table and "autoencoder" not in table
    assert said == "编码说：7（把握 90%）"


def test_generate_shows_the_beta_trade_off_with_each_rows_draws():
    from ae.i18n import CHINESE, speaking
    from ae.inference import Engines
    from ae.ui.context import Context
    from ae.ui.generate import beta_html, beta_rows
    from ae.zoo import load_zoo

    zoo = load_zoo()
    rows = beta_rows(Context(zoo, Engines(zoo.catalogue), Path("examples")))
    assert [row["beta"] for row in rows] == sorted(row["beta"] for row in rows) and len(rows) >= 3
    assert all(row["pictures"].shape == (8, 28, 28) for row in rows)
    # a larger beta: a smaller KL and a larger reconstruction error (the trade-off the table shows)
    assert all(a["kl"] > b["kl"] and a["mse"] < b["mse"] for a, b in zip(rows, rows[1:], strict=False))
    assert beta_html(rows).count("<img") == len(rows)
    with speaking(CHINESE):
        assert "抽样" in beta_html(rows)
