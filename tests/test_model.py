import pytest
import torch

from ae.model import AEConfig, Autoencoder
from benchmarks.tutorial import Autoencoder as TutorialAutoencoder


@pytest.mark.parametrize("code_activation", ["relu", "none"])
def test_shapes_and_ranges(code_activation):
    model = Autoencoder(AEConfig(code_activation=code_activation))
    x = torch.rand(5, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (5, 64)
    if code_activation == "relu":
        assert (z >= 0).all()
    assert torch.equal(model.encode(x.reshape(5, 784)), z)  # flat or image-shaped input alike
    y = model.decode(z)
    assert y.shape == (5, 1, 28, 28)
    assert ((y >= 0) & (y <= 1)).all()


def test_parameter_names_are_the_tutorials():
    names = {k: tuple(v.shape) for k, v in Autoencoder().state_dict().items()}
    assert names == {
        "encoder.0.weight": (256, 784), "encoder.0.bias": (256,),
        "encoder.2.weight": (64, 256), "encoder.2.bias": (64,),
        "decoder.0.weight": (256, 64), "decoder.0.bias": (256,),
        "decoder.2.weight": (784, 256), "decoder.2.bias": (784,),
    }


def test_tutorial_state_dict_round_trips_both_ways():
    torch.manual_seed(0)
    x = torch.rand(7, 1, 28, 28)
    tutorial = TutorialAutoencoder().eval()
    ours = Autoencoder(AEConfig(code_activation="relu")).eval()
    ours.load_state_dict(tutorial.state_dict(), strict=True)
    assert torch.equal(ours(x), tutorial(x))

    ours2 = Autoencoder(AEConfig(code_activation="relu")).eval()
    tutorial.load_state_dict(ours2.state_dict(), strict=True)
    assert torch.equal(tutorial(x), ours2(x))


def test_rejects_unknown_code_activation():
    with pytest.raises(ValueError, match="code_activation"):
        AEConfig(code_activation="tanh")
