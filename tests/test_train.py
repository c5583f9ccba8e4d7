import pytest
import torch

from ae.checkpoint import load_checkpoint
from ae.train import FIRST_LAUNCH, TUTORIAL, TrainConfig, config_from_args, evaluate, fit, main, parse_args

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
    assert (cfg.lr, cfg.code_activation, cfg.epochs) == (0.003, "none", TUTORIAL.epochs)
    assert config_from_args(parse_args(["--preset", "first-launch", "--epochs", "60"])).epochs == 60


@pytest.mark.parametrize("flags", [["--epochs", "0"], ["--limit", "0"], ["--batch-size", "-5"], ["--lr", "0"],
                                   ["--epochs", "two"]])
def test_out_of_range_flags_are_usage_errors(flags, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(flags)
    assert exit_info.value.code == 2 and flags[0] in capsys.readouterr().err
