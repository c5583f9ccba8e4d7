"""The latent map, outliers, dimensions and lab views before any input, in both languages, and a lab status line
told in the visitor's language."""

import re
from types import SimpleNamespace

import gradio as gr

from ae import i18n
from ae.i18n import CHINESE, speaking
from ae.inference import Engines
from ae.ui import dimensions, latent_map, outliers
from ae.ui.context import Context
from ae.ui.lab import Progress, status_line
from ae.zoo import load_zoo

CJK = re.compile(r"[\u4e00-\u9fff]")


def shown(value) -> tuple[str, str]:
    """A value made in both languages -> (English, Chinese), as the page's table holds them."""
    return i18n._BUILT[value.key] if hasattr(value, "key") else (value, value)


def test_the_first_digit_is_shown_by_each_view_in_both_languages(weights, mnist_test):
    zoo = load_zoo(weights)
    first = mnist_test.images[0].numpy() / 255
    with gr.Blocks() as demo:
        ctx = Context(zoo, Engines(zoo.catalogue), weights, current=gr.State(None), chosen=gr.State(None),
                      first=first)
        for view in (dimensions, latent_map, outliers):
            view.build(ctx)
    values = {b.elem_id: b.value for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    rows_en, rows_zh = shown(values["dimensions-rows"])
    rows = min(dimensions.SHOWN, ctx.served.code_size)  # the served model's, as the page shows before any input
    assert rows_en.count('class="dimension-row"') == rows and "your code" in rows_en
    assert "你的编码" in rows_zh and rows_zh.count('class="dimension-row"') == rows
    meter_en, meter_zh = shown(values["outlier-meter"])
    assert 'role="meter"' in meter_en and "More unusual than" in meter_en and CJK.search(meter_zh)
    near_en, near_zh = shown(values["latent-neighbours"])
    assert near_en.count('class="digit"') == 2 * latent_map.SHOWN and "最近的测试数字" in near_zh
    rings = values["latent-maps"]
    assert set(rings) == set(latent_map.MAPS) and all(0 <= v <= 1 for xy in rings.values() for v in xy)


def test_without_a_first_digit_the_views_ask_for_one(weights):
    zoo = load_zoo(weights)
    with gr.Blocks() as demo:
        ctx = Context(zoo, Engines(zoo.catalogue), weights, current=gr.State(None), chosen=gr.State(None))
        for view in (dimensions, outliers):
            view.build(ctx)
    values = {b.elem_id: b.value for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    assert "first tab" in shown(values["dimensions-rows"])[0] and "first tab" in shown(values["outlier-meter"])[0]


def test_the_outlier_table_has_a_row_per_score_and_the_combination(weights):
    meter = load_zoo(weights).outliers
    table = outliers.measured_table(meter)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(meter.parts) + 1  # the head, each score, the combination
    assert all(s in rows[0] for s in ("letters", "shapes", "scribbles"))
    assert rows[-1].count("·") == 3  # ROC AUC · share flagged, for each set
    labels = [row.split("|")[1].strip() for row in rows[1:-1]]
    assert len(set(labels)) == len(labels)  # two errors of two autoencoders are told apart by their model
    assert "(its name)" in outliers.measured_table(meter, {meter.parts[0].model: "its name"})
    with speaking(CHINESE):
        assert "字母" in outliers.measured_table(meter) and "合并分数" in outliers.measured_table(meter)


def test_a_lab_status_line_is_told_in_the_visitors_language():
    p = Progress(settings={"epochs": 5}, epochs=[1.5], test=[0.0123], inputs=object())
    status = SimpleNamespace(elapsed_seconds=12.4, estimate_seconds=30.0)
    english = status_line("running", status, p)
    assert english == "🏃 **Training**: 12 s of about 30, epoch 1.50 of 5 · test MSE 0.0123"
    with speaking(CHINESE):
        chinese = status_line("running", status, p)
    assert chinese == "🏃 **训练中**：已用 12 秒，预计约 30 秒，第 1.50 轮，共 5 轮 · 测试 MSE 0.0123"
    queued = SimpleNamespace(place=2, wait_seconds=40.0, estimate_seconds=30.0)
    assert "number 2 in the queue" in status_line("queued", queued, Progress())
    with speaking(CHINESE):
        assert "队列第 2 位" in status_line("queued", queued, Progress())
