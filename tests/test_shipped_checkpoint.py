from ae.checkpoint import DEFAULT_PATH, load_checkpoint
from ae.train import evaluate


def test_shipped_checkpoint_meets_its_target_and_its_record(mnist_test):
    ckpt = load_checkpoint(DEFAULT_PATH)
    assert ckpt.model.config.code_size == 64
    recorded = ckpt.metrics["test_mse"]
    assert recorded <= 0.0030
    assert ckpt.metrics["train_digits"] == 60000
    # The fixture holds the first 500 of the 10,000 test digits; their error is a sample of the full
    # test set's, so it should sit near the recorded figure (a wrong or mangled model misses by 2x+).
    mse = evaluate(ckpt.model, mnist_test.images)
    assert 0.7 * recorded < mse < 1.3 * recorded
