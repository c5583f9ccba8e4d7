import pytest
import torch
from torch.nn import functional as F

from ae.checkpoint import load_checkpoint
from ae.model import AEConfig
from ae.train import (
    FIRST_LAUNCH,
    TUTORIAL,
    TrainConfig,
    config_from_args,
    evaluate,
    fit,
    main,
    parse_args,
    resolve_device,
)

SMOKE = TrainConfig(epochs=6, batch_size=32, lr=3e-3, schedule="onecycle", seed=1)


def test_smoke_run_on_real_digits_learns(mnist_train, mnist_test):
    losses = []
    ckpt = fit(SMOKE, mnist_train, mnist_test, log=losses.append, progress=False)
    epoch_losses = [float(line.rsplit(" ", 1)[1]) for line in losses if line.startswith("Epoch")]
    assert len(epoch_losses) == 6
    assert epoch_losses[-1] < 0.6 * epoch_losses[0]
    # A network that only learned the average digit would score this; one that learned digits beats it.
    mean_image = mnist_train.images.float().mean(0) / 255
    mean_image_mse = ((mnist_test.images.float() / 255 - mean_image) ** 2).mean().item()
    assert ckpt.metrics["test_mse"] < 0.75 * mean_image_mse
    assert ckpt.metrics["train_digits"] == 1000


def test_same_seed_same_weights(mnist_train, mnist_test):
    cfg = TrainConfig(epochs=1, batch_size=100, limit=300, seed=7)
    a = fit(cfg, mnist_train, mnist_test, log=lambda _: None, progress=False)
    b = fit(cfg, mnist_train, mnist_test, log=lambda _: None, progress=False)
    for (name, wa), wb in zip(a.model.state_dict().items(), b.model.state_dict().values(), strict=True):
        assert torch.equal(wa, wb), name
    c = fit(TrainConfig(epochs=1, batch_size=100, limit=300, seed=8), mnist_train, mnist_test,
            log=lambda _: None, progress=False)
    assert not torch.equal(a.model.encoder[0].weight, c.model.encoder[0].weight)


def test_cli_writes_a_loadable_checkpoint(tmp_path, capsys, mnist_test):
    from tests.conftest import FIXTURES

    out = tmp_path / "w" / "ae.safetensors"
    main(["--epochs", "1", "--limit", "200", "--data-dir", str(FIXTURES), "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert "Epoch [1/1], Loss:" in printed and "Test MSE:" in printed
    ckpt = load_checkpoint(out)
    assert ckpt.train["limit"] == 200 and ckpt.train["epochs"] == 1
    assert ckpt.metrics["test_mse"] == pytest.approx(evaluate(ckpt.model, mnist_test.images), rel=1e-5)


def test_presets_and_explicit_flags():
    assert config_from_args(parse_args(["--preset", "tutorial"])) == TUTORIAL
    assert config_from_args(parse_args(["--preset", "first-launch", "--seed", "3"])).seed == 3
    assert config_from_args(parse_args(["--preset", "first-launch"])) == FIRST_LAUNCH
    assert config_from_args(parse_args(["--epochs", "2"])) == TrainConfig(epochs=2)


def test_explicit_flags_win_even_when_they_equal_the_plain_defaults():
    # TrainConfig's defaults are lr 3e-3, 60 epochs and a linear code; typed over a preset, they must stick.
    cfg = config_from_args(parse_args(["--preset", "tutorial", "--lr", "0.003", "--code-activation", "none"]))
    assert (cfg.lr, cfg.model.code_activation, cfg.epochs) == (0.003, "none", TUTORIAL.epochs)
    assert config_from_args(parse_args(["--preset", "first-launch", "--epochs", "60"])).epochs == 60


@pytest.mark.parametrize("flags", [["--epochs", "0"], ["--limit", "0"], ["--batch-size", "-5"], ["--lr", "0"],
                                   ["--epochs", "two"]])
def test_out_of_range_flags_are_usage_errors(flags, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(flags)
    assert exit_info.value.code == 2 and flags[0] in capsys.readouterr().err


def test_model_flags_set_the_network():
    cfg = config_from_args(parse_args(["--code-size", "8", "--hidden", "32", "--preset", "tutorial"]))
    assert cfg.model == AEConfig(code_size=8, hidden=32, code_activation="relu")  # the preset's ReLU code stays
    assert config_from_args(parse_args([])).model == AEConfig(code_activation="none")


def test_config_round_trips_through_a_dict():
    cfg = TrainConfig(model=AEConfig(code_size=4, hidden=16), epochs=3, limit=10)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig.from_dict({"model": {"code_size": 2}}) == TrainConfig(model=AEConfig(code_size=2,
                                                                                              code_activation="none"))


def test_history_has_one_entry_per_epoch_and_follows_training(mnist_train, mnist_test):
    ckpt = fit(TrainConfig(model=AEConfig(code_size=8, code_activation="none"), epochs=4, batch_size=64, limit=500),
               mnist_train, mnist_test, log=lambda _: None, progress=False)
    h = ckpt.history
    assert len(h["train_loss"]) == len(h["test_mse"]) == 4
    assert h["train_loss"][-1] < h["train_loss"][0] and h["test_mse"][-1] < h["test_mse"][0]
    assert h["test_mse"][-1] == pytest.approx(ckpt.metrics["test_mse"])
    assert ckpt.model.config.code_size == 8 and ckpt.stats.mean.shape == (8,)


def test_the_loop_trains_on_the_loss_it_is_given(mnist_train, mnist_test):
    cfg = TrainConfig(epochs=5, batch_size=64, limit=300)
    x = (mnist_test.images[:50].float() / 255).reshape(50, -1)
    plain = fit(cfg, mnist_train, mnist_test, log=lambda _: None, progress=False)
    negative = fit(cfg, mnist_train, mnist_test, log=lambda _: None, progress=False,
                   loss_fn=lambda model, batch: F.mse_loss(model(batch).reshape(batch.shape), 1 - batch))

    def agreement(ckpt):  # correlation of output and input pixels
        with torch.inference_mode():
            return torch.corrcoef(torch.stack([ckpt.model(x).reshape(-1), x.reshape(-1)]))[0, 1].item()

    assert agreement(negative) < -0.2 and agreement(plain) > 0.2  # measured: -0.43 and 0.42


@pytest.mark.parametrize("gpu", [True, False], ids=["a GPU", "no GPU"])
def test_auto_takes_the_gpu_only_when_there_is_one(monkeypatch, gpu):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    assert resolve_device("auto") == torch.device("cuda" if gpu else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")  # asked for, even with a GPU


def test_asking_for_a_missing_gpu_says_what_to_use_instead(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"no CUDA GPU here \(use --device cpu or auto\)"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("cuda") == torch.device("cuda")  # with one, it is taken


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cli_asking_for_a_missing_gpu_is_an_error_line(capsys):
    with pytest.raises(SystemExit, match="error: --device cuda"):
        main(["--device", "cuda", "--epochs", "1"])


def test_a_step_callback_sees_every_step_and_can_stop_the_run(mnist_train, mnist_test):
    cfg = TrainConfig(epochs=3, batch_size=100, limit=300, seed=2)
    seen = []
    ckpt = fit(cfg, mnist_train, mnist_test, log=lambda _: None, progress=False,
               on_step=lambda model, loss: seen.append(float(loss)) or len(seen) == 4)
    assert len(seen) == 4  # 3 steps of epoch 1, then the first of epoch 2 asked to stop
    assert ckpt.metrics["stopped"] is True and len(ckpt.history["test_mse"]) == 1  # whole epochs only
    assert ckpt.metrics["test_mse"] == pytest.approx(evaluate(ckpt.model, mnist_test.images), rel=1e-5)


@pytest.mark.parametrize("value", ["nan", "-0.1", "2"])
def test_noise_out_of_range_is_refused(value):
    with pytest.raises(SystemExit, match="--noise must be between 0 and 1"):
        main(["--noise", value, "--epochs", "1"])
