"""Train your own: the learner sets up a run, presses Train and watches the model learn; the model it ends with
becomes "your model" in every view. `build(ctx)` adds the view.

The run itself goes through ae.jobs (worker processes or Ray, a queue in front); this view only submits, polls
(a gr.Timer, several times a second while a run is queued or running) and draws what the run reports.
"""

import collections
import functools
import math
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field

import gradio as gr
import numpy as np

from ae import artifacts, lab
from ae.checkpoint import CheckpointError
from ae.i18n import L, in_both_languages, t, translate
from ae.inference import Engine, Engines
from ae.jobs import FINISHED, OnDemand
from ae.lab import PRESETS, RANGES, LabSettings, check_settings, command_for, estimate_seconds
from ae.models import models_from
from ae.preprocess import InputError
from ae.ui.api import saved_file, saved_png
from ae.ui.checks import choice, number
from ae.ui.errors import on_page
from ae.ui.explore import choice_label, choices
from ae.ui.inputs import uploaded
from ae.ui.render import code_scatter, grid_image, line_plot
from ae.visitors import YOURS, check_servable, owner

POLL_SECONDS = 0.3  # the page asks for news this often while a run is queued or running
TRAIN, TEST = "rgb(37,99,235)", "rgb(234,88,12)"
SCATTER_CAPTION = ("<b>Where test digits land in the 2-number code</b>, one dot each, coloured by digit: watch the "
                   "classes pull apart as it learns.")
FIELDS = ("kind", "code_size", "hidden", "digits", "epochs", "lr_power", "schedule", "noise", "code_activation",
          "beta", "seed", "batch_size")  # the page's inputs, in order; lr_power is log10 of the learning rate
LR_POWER = (math.log10(RANGES["lr"][0]), math.log10(RANGES["lr"][1]))
EXPLAIN = """### Train your own autoencoder and watch it learn
Choose the settings (or a preset that makes one of the tutorial's warnings happen) and press **Train**. The
server trains the network on real MNIST digits and this page redraws as it learns: the **training loss** (on
the digits it learns from) and the **test MSE** (on 1,000 test digits it never sees), what it rebuilds from 8
test digits, and for a 2-number code where 1,000 test digits land. **Stop** ends the run and keeps the model as
it is. When the run ends, the model is **your model** in the Model menu of the first tab, so every view can
use it, and you can download it with the command that rebuilds it."""
MEANINGS = {
    "kind": "a plain autoencoder (the tutorial's), a variational one (its codes pulled towards a standard normal) or "
            "a convolutional one",
    "code_size": "numbers in the code: 2 can be drawn as a plane; small codes lose detail",
    "hidden": "units in the hidden layer on each side of the code",
    "digits": "training digits (the first N of MNIST's 60,000): few digits invite overfitting",
    "epochs": "passes over the training digits",
    "lr_power": "Adam's learning rate as a power of ten (-3 is 0.001): too high sticks, too low crawls",
    "schedule": "constant, as the tutorial has it; or one-cycle: warm up, then decay",
    "noise": "noise added to each training digit (0 = plain autoencoder, above 0 = denoising)",
    "code_activation": "linear code, or ReLU as the tutorial has it (ReLU can leave numbers stuck at 0)",
    "beta": "a VAE's weight on its KL term: 1 is the ELBO; more gives a smoother code and blurrier digits",
    "seed": "the same seed and settings give the same weights on the CPU",
    "batch_size": "digits per Adam step",
}
LABELS = {"kind": "model kind", "code_size": "code size", "hidden": "hidden width", "digits": "training digits",
          "epochs": "epochs", "lr_power": "learning rate (power of ten)", "schedule": "schedule",
          "noise": "denoising noise", "code_activation": "code activation", "beta": "β (VAE only)", "seed": "seed",
          "batch_size": "batch size"}
KIND_NAMES = {"autoencoder": "autoencoder", "vae": "variational (VAE)", "conv": "convolutional"}
SCHEDULE_NAMES = {"constant": "constant", "onecycle": "one-cycle"}
ACTIVATION_NAMES = {"linear": "linear", "relu": "ReLU, as the tutorial"}
PRESET_NAMES = {"over-compression": "Over-compression", "overfitting": "Overfitting",
                "lr-too-high": "Learning rate too high", "lr-too-low": "Learning rate too low",
                "tutorial": "The tutorial's recipe", "shipped": "How the app's model was trained"}
IDLE = "Press **Train** to start."
NO_CURVE = "The curve appears with the first step."
READY = ("**Ready.** Press **Train** to train a new model with the settings on the right, for about the time above. "
         "As it learns, its curves fill the chart below and the 8 test digits come back sharper; when it ends, it is "
         "your model in every view.")


def lr_of_power(power) -> float:
    """The learning rate of a power of ten from the page, to 2 significant digits (-2.52 is 0.003, as people
    write learning rates, and as the command shows it)."""
    power = number("The learning rate's power of ten", power, *LR_POWER)
    low, high = RANGES["lr"]
    return min(high, max(low, float(f"{10.0 ** power:.2g}")))


def settings_from_page(values, available: int) -> LabSettings:
    """The page's inputs (FIELDS order) -> checked settings; InputError for anything off, whatever was sent."""
    if not isinstance(values, (list, tuple)) or len(values) != len(FIELDS):
        raise InputError(f"Training takes {len(FIELDS)} settings: {', '.join(FIELDS)}.")
    raw = dict(zip(FIELDS, values, strict=True))
    raw["lr"] = lr_of_power(raw.pop("lr_power"))
    settings = check_settings(raw)
    if settings.digits > available:
        raise InputError(f"digits must be at most {available:,} here (the training digits this server has); got "
                         f"{settings.digits:,}.")
    return settings


def page_values(settings: LabSettings) -> list:
    """Settings as the page's inputs (FIELDS order)."""
    values = settings.to_dict()
    values["lr_power"] = round(math.log10(values.pop("lr")), 2)
    return [values[name] for name in FIELDS]


def estimate_line(settings: LabSettings) -> str:
    """How long the run would take, in the visitor's language."""
    return t("**About {seconds} s** on this server ({work} digit-passes of the {most} one run may take; a run stops "
             "at {cap} s) · learning rate {lr}", seconds=f"{estimate_seconds(settings):.0f}",
             work=f"{settings.digits * settings.epochs:,}", most=f"{lab.MAX_WORK:,}", cap=f"{lab.WALL_CLOCK_CAP:g}",
             lr=f"{settings.lr:g}")



@dataclass
class Progress:
    """What the page knows of a visitor's run: the job, how far it has read, and what it draws."""

    job: str = ""
    cursor: int = 0
    settings: dict = field(default_factory=dict)
    epochs: list = field(default_factory=list)  # x of each curve point (fractional epochs)
    train: list = field(default_factory=list)
    test: list = field(default_factory=list)
    inputs: np.ndarray | None = None  # (8, 28, 28) uint8
    recon: np.ndarray | None = None
    codes: np.ndarray | None = None  # (N, 2) for a 2-number code
    labels: np.ndarray | None = None
    end: dict | None = None
    adopted: bool = False  # its model became the visitor's (once)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, message: dict) -> bool:
        """Fold in one message of the run; returns whether the pictures changed."""
        kind = message.get("kind")
        if kind == "start":
            self.inputs = message["inputs"]
            return False
        if kind == "progress":
            self.epochs.append(message["epoch"])
            self.train.append(message["train_loss"])
            self.test.append(message["test_mse"])
            self.recon = message["reconstructions"]
            if "codes" in message:
                self.codes, self.labels = message["codes"], message["labels"]
            return True
        if kind == "end":
            self.end = message
        return False


def curve(p: Progress) -> str:
    if not p.epochs:
        return f"<p>{t(NO_CURVE)}</p>"
    train = (t("training loss (cross-entropy + β·KL per digit)") if p.settings.get("kind") == "vae"
             else t("training loss"))
    return line_plot([(train, TRAIN, p.train), (t("test MSE (1,000 test digits)"), TEST, p.test)],
                     xs=p.epochs, x_end=p.settings.get("epochs"), x_label=t("epoch"), y_label=t("MSE (log scale)"))


def pictures(p: Progress) -> str | None:
    """The 8 test digits above what the model rebuilds from them, as a PNG in the cache."""
    if p.inputs is None or p.recon is None:
        return None
    both = np.concatenate([p.inputs, p.recon]).astype(np.float32) / 255
    return saved_png(grid_image(both, len(p.inputs), scale=3))


def status_line(state: str, status, p: Progress) -> str:
    """Where the visitor's run is, in their language (the page asks several times a second)."""
    if state == "queued":
        return t("⏳ **Waiting: number {place} in the queue**, about {wait} s to wait (this server trains one run at a "
                 "time), then about {train} s to train.", place=status.place, wait=f"{status.wait_seconds:.0f}",
                 train=f"{status.estimate_seconds:.0f}")
    if state == "running" and p.inputs is None:
        return t("⚙️ **Starting**: the training process is getting ready (a few seconds when it starts cold).")
    if state == "running":
        line = t("🏃 **Training**: {elapsed} s of about {estimate}", elapsed=f"{status.elapsed_seconds:.0f}",
                 estimate=f"{status.estimate_seconds:.0f}")
        if p.epochs:
            line += t(", epoch {epoch} of {epochs}", epoch=f"{p.epochs[-1]:.2f}", epochs=p.settings.get("epochs"))
        return line + (t(" · test MSE {mse}", mse=f"{p.test[-1]:.4f}") if p.test else "")
    if state == "failed":
        return t("⚠️ The run failed: {error}", error=translate(str(status.error)))
    end = p.end or {}
    stopped = end.get("stopped")
    why = (t("You stopped it") if stopped == "stopped" else t("It hit {limit}", limit=translate(str(stopped)))
           if stopped else t("Done"))
    mse = t(" Test MSE {mse}.", mse=f"{end['test_mse']:.4f}") if isinstance(end.get("test_mse"), float) else ""
    return t("✅ **{why}** after {seconds} s.{mse} It is now **your model**: pick \"your model\" in the Model menu of "
             "the first tab, and the other views follow.", why=why, seconds=f"{end.get('seconds', 0):.1f}", mse=mse)


def yours_choice(engine: Engine) -> tuple[str, str]:
    return choice_label(engine).replace(YOURS, t("your model"), 1), YOURS


class Runs:
    """Each visitor's latest run as their page draws it (a Progress), by visitor, on the server: the page's
    events (Train, each tick of the timer, Stop) read and change it under its lock, so a tick that overlaps a
    new Train can never put the old run back. At most `limit` visitors, the least recently seen dropped first
    (their page then says it lost track)."""

    def __init__(self, limit: int = 500):
        self.limit = limit
        self._runs: collections.OrderedDict[str, Progress] = collections.OrderedDict()
        self._lock = threading.Lock()

    def start(self, who: str, progress: Progress) -> None:
        with self._lock:
            self._runs.pop(who, None)
            self._runs[who] = progress
            while len(self._runs) > self.limit:
                self._runs.popitem(last=False)

    def get(self, who: str) -> Progress | None:
        with self._lock:
            progress = self._runs.get(who)
            if progress is not None:
                self._runs.move_to_end(who)
            return progress


NO_DATA = ("Training needs MNIST's files on the server, and it has none: put the four files in data/MNIST/raw (or "
           "point AE_DATA_DIR at a folder that has them) and restart.")


class Handlers:
    """The view's events. Each visitor's run lives on the server (Runs), found by the visitor the event comes from
    (ae.visitors.owner); the page holds no job id."""

    def __init__(self, engines: Engines, jobs: OnDemand, available: int, catalogue_choices: list):
        self.engines, self.jobs, self.available = engines, jobs, available
        self.catalogue_choices = catalogue_choices  # the model picker's entries besides the visitor's own
        self.runs = Runs()
        self.on_estimate = on_page("lab estimate", lambda m: f"⚠️ {m}")(self._estimate)
        self.on_kind = on_page("lab kind", lambda m: tuple(gr.skip() for _ in lab.FOR_KINDS))(self._kind)
        self.on_train = on_page("lab train", lambda m: (f"⚠️ {m}", *[gr.skip()] * 8))(self._train)
        self.on_poll = on_page("lab poll", lambda m: (f"⚠️ {m}", *[gr.skip()] * 8))(self._poll)
        self.on_stop = on_page("lab stop", lambda m: f"⚠️ {m}")(self._stop)
        self.on_preset = on_page("lab preset", self.no_preset)(self._preset)
        self.on_load = on_page("lab load", lambda m: (f"⚠️ {m}", gr.skip(), gr.skip()))(self._load)

    def _kind(self, kind) -> tuple:
        """The settings only some kinds read: usable for this kind, else back at their defaults and greyed out."""
        kind = choice("kind", kind, lab.KINDS)
        return tuple(gr.update(interactive=kind in kinds, **({} if kind in kinds else
                                                             {"value": getattr(LabSettings(), name)}))
                     for name, kinds in lab.FOR_KINDS.items())

    def _estimate(self, *values) -> str:
        """The estimate, after the preset's name and meaning while the page holds exactly a preset's settings (so
        the line reads the same whichever comes last: the preset's own answer, or the estimate its values set off)."""
        settings = settings_from_page(values, self.available or RANGES["digits"][1])
        shown = page_values(settings)
        named = next((name for name in PRESETS if page_values(self._preset_settings(name)) == shown), None)
        return (self._meaning(named) if named else "") + estimate_line(settings)

    def _preset_settings(self, name: str) -> LabSettings:
        settings = PRESETS[name].settings
        if self.available and settings.digits > self.available:  # a server with fewer digits: as many as it has
            settings = lab.with_changes(settings, digits=self.available)
        return settings

    @staticmethod
    def _meaning(name: str) -> str:
        return f"**{t(PRESET_NAMES.get(name, name))}**: {t(PRESETS[name].meaning)}. "

    def _preset(self, name) -> tuple:
        name = choice("preset", name, list(PRESETS))
        settings = self._preset_settings(name)
        return (*page_values(settings), self._meaning(name) + estimate_line(settings))

    def no_preset(self, message: str) -> tuple:
        return (*[gr.skip()] * len(FIELDS), f"⚠️ {message}")

    def _train(self, *values) -> tuple:
        """Outputs: status, curve, pictures, scatter, timer, picker, download, command, revision."""
        if not self.available:
            raise InputError(NO_DATA)
        settings = settings_from_page(values, self.available)
        jobs, who = self.jobs.get(), owner()
        previous = self.runs.get(who)
        if previous is not None:
            self.replace(jobs, previous.job)  # one run per visitor: a new Train ends the one still going
        job = jobs.submit(settings, owner=who, watched=True)
        p = Progress(job=job, settings=settings.to_dict())
        self.runs.start(who, p)
        status = jobs.status(job)
        return (status_line(status.state, status, p), curve(p), None, "", gr.Timer(active=True), gr.skip(),
                gr.skip(), gr.skip(), gr.skip())

    @staticmethod
    def replace(jobs, job: str, patience: float = 2.0) -> None:
        """Stop the visitor's run that is still going, and wait (a stopped run ends within a step and 50 ms) so
        that the new one is not refused as a second run of theirs."""
        try:
            if jobs.status(job).state in FINISHED:
                return
            jobs.stop(job)
            deadline = time.monotonic() + patience
            while jobs.status(job).state not in FINISHED and time.monotonic() < deadline:
                time.sleep(0.02)
        except InputError:  # long gone
            pass

    def _poll(self) -> tuple:
        """News of the visitor's run, redrawn; at its end, the model becomes theirs (once)."""
        p = self.runs.get(owner())
        if p is None:
            return (t(IDLE), *[gr.skip()] * 3, gr.Timer(active=False), *[gr.skip()] * 4)
        jobs = self.jobs.get()
        with p.lock:
            try:
                status = jobs.status(p.job)
                new, p.cursor = jobs.messages(p.job, p.cursor)
            except InputError as e:  # the run was dropped long ago
                return (f"⚠️ {translate(str(e))}", *[gr.skip()] * 3, gr.Timer(active=False), *[gr.skip()] * 4)
            changed = any([p.take(m) for m in new])
            drawn = (curve(p) if changed else gr.skip(), pictures(p) if changed else gr.skip(),
                     f"<p>{t(SCATTER_CAPTION)}</p>" + code_scatter(p.codes, p.labels) if p.codes is not None and changed
                     else gr.skip())
            if status.state not in FINISHED:
                return (status_line(status.state, status, p), *drawn, gr.Timer(active=True), *[gr.skip()] * 4)
            off = gr.Timer(active=False)
            if status.state == "failed":
                return (status_line("failed", status, p), *drawn, off, *[gr.skip()] * 4)
            blob = jobs.result(p.job)
            if blob is None:  # stopped while it waited
                return (t("⏹ Stopped while waiting."), *drawn, off, *[gr.skip()] * 4)
            if p.adopted:  # told already (a second tick, or a call by hand)
                return (status_line(status.state, status, p), *drawn, off, *[gr.skip()] * 4)
            p.adopted = True
        name = f"your-model-{p.settings['kind']}-{p.settings['code_size']}-seed{p.settings['seed']}.safetensors"
        engine = self.adopt(blob, name)
        command = command_for(LabSettings(**p.settings), out=name, data_dir="DIR_WITH_MNIST")
        return (status_line(status.state, status, p), *drawn, off, self.picker(engine), saved_file(blob, name),
                command, time.monotonic_ns())

    def adopt(self, blob: bytes, name: str = "checkpoint.safetensors") -> Engine:
        """A checkpoint's bytes -> the visitor's own model (the one model a servable artifact holds), if the page
        can serve it at the cost of the models it ships."""
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "checkpoint.safetensors")  # never a name from the request
            with open(path, "wb") as f:
                f.write(blob)
            try:
                loaded = artifacts.load(path)
            except CheckpointError as e:
                raise InputError(f"That is not a checkpoint this app can use: {e.problem}") from None
        found = models_from(name, loaded)
        if len(found) != 1:
            raise InputError(f"That file is a {getattr(loaded, 'kind', 'file')} artifact, not one model: load an "
                             "autoencoder, VAE or convolutional autoencoder checkpoint (as this tab downloads).")
        check_servable(found[0])
        return self.engines.adopt(found[0], len(blob))

    def picker(self, engine: Engine):
        return gr.update(choices=[*self.catalogue_choices, yours_choice(engine)])

    def _stop(self) -> str:
        p = self.runs.get(owner())
        if p is None:
            return t("No run to stop.")
        jobs = self.jobs.get()
        if jobs.status(p.job).state in FINISHED:
            return t("Nothing to stop: the run has ended.")
        jobs.stop(p.job)
        return t("⏹ Stopping: the model is kept as it is now.")

    def _load(self, payload) -> tuple:
        """An uploaded checkpoint (this tab's download, or any autoencoder checkpoint) becomes your model."""
        if not isinstance(payload, dict):
            raise InputError("Choose a .safetensors checkpoint to load.")
        engine = self.adopt(uploaded(payload).getvalue())
        return (t("✅ Loaded: {model}. It is now **your model** in the Model menu of the first tab.",
                  model=engine.describe()),
                self.picker(engine), time.monotonic_ns())


ENDPOINTS = ("lab_estimate", "lab_train", "lab_poll", "lab_stop", "lab_load")


def build(ctx) -> None:
    """Add the view (inside the tab being built)."""
    if ctx.lab is None or ctx.picker is None:
        gr.Markdown(L("Training is not offered by this server."))
        return
    available = ctx.lab_digits  # 0: the view is there, and Train says what the server lacks
    h = Handlers(ctx.engines, ctx.lab, available, choices(ctx.engines))
    most = available or RANGES["digits"][1]
    default = LabSettings(digits=min(LabSettings.digits, most))
    gr.Markdown(L(EXPLAIN))
    if not available:
        gr.Markdown(L(NO_DATA))
    with gr.Row(elem_classes="presets"):
        preset_buttons = [(name, gr.Button(L(PRESET_NAMES.get(name, name)), size="sm", elem_id=f"preset-{name}"))
                          for name in PRESETS]
    with gr.Row(equal_height=False):  # Train above both columns: near the curve, and first on a phone
        with gr.Column(scale=3, min_width=300):  # on a phone the estimate takes a line, the buttons the next
            estimate = gr.Markdown(in_both_languages(lambda: estimate_line(default)), elem_id="lab-estimate")
        train = gr.Button(L("Train"), variant="primary", elem_id="lab-train", scale=0, min_width=140)
        stop = gr.Button(L("Stop"), variant="stop", elem_id="lab-stop", scale=0, min_width=100)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):  # what it learns first, the settings beside
            status = gr.Markdown(L(READY) if available else L(IDLE),  # before any run: what Train will do
                                 elem_id="lab-status", elem_classes="status")
            plot = gr.HTML(L(NO_CURVE), elem_id="lab-curve")
            gr.Markdown(L("**8 test digits (top) and what the model rebuilds from them (bottom)**"),
                        elem_classes="caption")
            recon = gr.Image(label=L("test digits and their reconstructions"), show_label=False, interactive=False,
                             format="png", elem_id="lab-recon", elem_classes="pixelated",
                             alt_text=L("test digits, each above its reconstruction by your model"))
            scatter = gr.HTML("", elem_id="lab-scatter")
            command = gr.Textbox(label=L("The command that rebuilds your model (same seed: the same weights on the "
                                         "CPU; DIR_WITH_MNIST: a folder with MNIST/raw)"), interactive=False,
                                 buttons=["copy"], elem_id="lab-command")
            download = gr.File(label=L("Your model's checkpoint (load it back here; a plain autoencoder's also serves "
                                       "with AE_CHECKPOINT=file python app.py)"),
                               interactive=False, elem_id="lab-download")
            checkpoint = gr.File(label=L("Load a checkpoint as your model (.safetensors, up to 10 MB)"),
                                 file_types=[".safetensors"], type="filepath", elem_id="lab-load")
        with gr.Column(scale=1, min_width=300):
            inputs = {
                "kind": gr.Dropdown([(L(KIND_NAMES[k]), k) for k in lab.KINDS], value=default.kind),
                "code_size": gr.Slider(*RANGES["code_size"], value=default.code_size, step=1),
                "hidden": gr.Slider(*RANGES["hidden"], value=default.hidden, step=16),
                "digits": gr.Slider(RANGES["digits"][0], most, value=default.digits, step=100),
                "epochs": gr.Slider(*RANGES["epochs"], value=default.epochs, step=1),
                "lr_power": gr.Slider(*LR_POWER, value=page_values(default)[FIELDS.index("lr_power")], step=0.1),
                "schedule": gr.Radio([(L(SCHEDULE_NAMES[k]), k) for k in lab.SCHEDULES], value=default.schedule),
                "noise": gr.Slider(*RANGES["noise"], value=default.noise, step=0.05),
                "code_activation": gr.Radio([(L(ACTIVATION_NAMES[k]), k) for k in lab.CODE_ACTIVATIONS],
                                            value=default.code_activation),
                "beta": gr.Slider(*RANGES["beta"], value=default.beta, step=0.1),
                "seed": gr.Number(default.seed, precision=0, minimum=0, maximum=RANGES["seed"][1]),
                "batch_size": gr.Slider(*RANGES["batch_size"], value=default.batch_size, step=16),
            }
            for name, component in inputs.items():
                component.label, component.info = L(LABELS[name]), L(MEANINGS[name])
                component.elem_id = f"lab-{name.replace('_', '-')}"
    timer = gr.Timer(POLL_SECONDS, active=False)
    revision = gr.State(0)  # changes when the visitor's model does: the first tab then shows the new one

    for name, component in inputs.items():  # what does not apply to the kind stays at its default, greyed out
        if name in lab.FOR_KINDS:
            component.interactive = default.kind in lab.FOR_KINDS[name]
    values = list(inputs.values())
    applies = [inputs[name] for name in lab.FOR_KINDS]
    inputs["kind"].input(h.on_kind, inputs["kind"], applies, api_visibility="private", show_progress="hidden",
                         concurrency_limit=None)
    ui = dict(api_visibility="undocumented", show_progress="hidden")
    gr.on([c.change for c in values], h.on_estimate, values, estimate, api_name="lab_estimate",
          trigger_mode="always_last", concurrency_limit=None, **ui)
    for name, button in preset_buttons:
        button.click(functools.partial(h.on_preset, name), None, [*values, estimate], concurrency_limit=None,
                     api_visibility="private", show_progress="hidden")
    polled = [status, plot, recon, scatter, timer, ctx.picker, download, command, revision]
    train.click(h.on_train, values, polled, api_name="lab_train", concurrency_limit=4, **ui)
    timer.tick(h.on_poll, None, polled, api_name="lab_poll", concurrency_limit=8, **ui)
    stop.click(h.on_stop, None, status, api_name="lab_stop", concurrency_limit=None, **ui)
    checkpoint.upload(h.on_load, checkpoint, [status, ctx.picker, revision], api_name="lab_load", preprocess=False,
                      concurrency_limit=2, **ui)
    loader = ctx.loader
    revision.change(loader.on_rechoose, [ctx.chosen, ctx.current], loader.choose_outputs, api_visibility="private",
                    show_progress="hidden", concurrency_limit=4)
