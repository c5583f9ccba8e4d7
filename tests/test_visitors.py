"""Each visitor's own model: kept per visitor, bounded on the server, dropped unused-longest first, with a message."""

import threading

import pytest
import torch

from ae.inference import Engines
from ae.models import Catalogue, as_model
from ae.preprocess import InputError
from ae.visitors import YOURS, VisitorModels, as_owner, check_servable, owner


def test_each_visitor_sees_only_their_own_model():
    kept = VisitorModels()
    kept.put("a", "model of a", 10)
    kept.put("b", "model of b", 10)
    assert kept.get("a") == "model of a" and kept.get("b") == "model of b"
    with pytest.raises(InputError, match="no model of your own yet"):
        kept.get("c")
    with pytest.raises(InputError, match="no session"):
        kept.put("", "model", 10)


def test_the_model_unused_longest_is_dropped_first_and_its_visitor_told():
    kept = VisitorModels(max_models=3, max_bytes=1000)
    for who in "abc":
        kept.put(who, f"model of {who}", 100)
    kept.get("a")  # a uses theirs: b is now the one unused longest
    assert kept.put("d", "model of d", 100) == ["b"]
    assert len(kept) == 3 and kept.get("a") == "model of a"
    with pytest.raises(InputError, match="Your model is gone"):
        kept.get("b")
    kept.put("b", "b again", 100)  # training again brings it back
    assert kept.get("b") == "b again"


def test_the_bound_on_bytes_drops_as_many_as_it_takes():
    kept = VisitorModels(max_models=10, max_bytes=1000)
    for who in "abcd":
        kept.put(who, who, 250)
    assert kept.nbytes == 1000
    assert kept.put("e", "e", 600) == ["a", "b", "c"]
    assert kept.nbytes == 850 and len(kept) == 2
    with pytest.raises(InputError, match="at most"):
        kept.put("f", "f", 1001)  # larger than the whole budget: refused, nobody dropped
    assert len(kept) == 2


def test_replacing_ones_own_model_drops_nobody_else():
    kept = VisitorModels(max_models=2, max_bytes=1000)
    kept.put("a", "first", 100)
    kept.put("b", "b", 100)
    assert kept.put("a", "second", 100) == []
    assert kept.get("a") == "second" and kept.get("b") == "b"


def test_the_owner_follows_the_context_into_threads_started_with_it():
    seen = {}
    with as_owner("visitor-1"):
        assert owner() == "visitor-1"
        import contextvars
        ctx = contextvars.copy_context()  # what anyio does for each handler it runs in a worker thread
        t = threading.Thread(target=lambda: seen.update(who=ctx.run(owner)))
        t.start()
        t.join()
    assert seen["who"] == "visitor-1" and owner() == ""


def test_engines_resolve_your_model_for_the_running_visitor_only(weights):
    from ae.artifacts import load

    model = as_model(load(weights / "ae-2.safetensors"), "ae-2.safetensors")
    engines = Engines(Catalogue.of([model], model))
    with as_owner("a"):
        engines.adopt(model, 1000)
        assert engines.get(YOURS).code_size == 2 and engines.get(YOURS).name == YOURS
    with as_owner("b"), pytest.raises(InputError, match="no model of your own"):
        engines.get(YOURS)
    assert engines.get("ae-2").name == "ae-2"  # the served models are everyone's


def fake_model(code_size=16, **config):
    """A model as a checkpoint describes it; its network's config is what a file's metadata said."""
    from types import SimpleNamespace

    return SimpleNamespace(network=SimpleNamespace(config=SimpleNamespace(**config)), code_size=code_size,
                           encode=lambda x: torch.zeros(len(x), code_size),
                           decode=lambda z: torch.zeros(len(z), 28, 28))


@pytest.mark.parametrize("model, words", [
    (fake_model(input_size=160_000), "reads 160000 pixels"),
    (fake_model(channels=190, input_size=784), "channels is 190"),
    (fake_model(hidden=4096), "hidden is 4096"),
    (fake_model(code_size=500), "code size is 500"),
])
def test_a_visitors_model_must_cost_what_the_labs_do(model, words):
    with pytest.raises(InputError, match=words):
        check_servable(model)


def test_a_model_that_cannot_run_on_a_digit_is_refused():
    broken = fake_model(hidden=256)
    broken.decode = lambda z: torch.zeros(len(z), 40, 40)
    with pytest.raises(InputError, match="does not turn a 28x28 digit"):
        check_servable(broken)
    broken.encode = lambda x: x @ torch.zeros(3, 3)
    with pytest.raises(InputError, match="cannot run on a 28x28 digit"):
        check_servable(broken)
    check_servable(fake_model(hidden=1024, input_size=784))  # the lab's largest is fine
