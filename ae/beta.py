"""The beta trade-off: one row per 16-number VAE trained with a different weight beta on its KL term.

A larger beta pulls each digit's Gaussian code closer to N(0, I): codes drawn from N(0, I) land where digits
were, so drawn digits look more like digits, at the price of detail in reconstructions. Each row holds, on the
10,000 test digits: the reconstruction MSE from the mean code, the mean KL of a code in nats, the negative ELBO
(beta 1, one seeded draw per digit) in nats; and, on 1,000 codes drawn from N(0, I) and decoded, what an
independent judge (ae/judge.py) makes of them. `python -m ae.build` makes weights/betas.safetensors.

    from ae.beta import beta_table
    for row in beta_table():            # rows in order of beta
        row["beta"], row["name"], row["mse"], row["kl"], row["elbo"], row["confident_share"]

A view that shows the trade-off as pictures decodes a few prior draws by each row's model:
`zoo.catalogue.get(row["name"])` (or `zoo.model_for(row["model"])`), then `.decode(.sample_codes(8, gen))`.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ae.checkpoint import WEIGHTS_DIR, CheckpointError, read_artifact, save_artifact

FILE = "betas.safetensors"
# The numbers of a row, in the order of the stored table's columns; each row also has "model" and "name".
COLUMNS = ("beta", "mse", "kl", "elbo", "confident_share", "min_class_share", "max_class_share")


@dataclass
class BetaTable:
    """The rows (dicts of COLUMNS, "class_shares", "model" and "name") and how the samples were judged."""

    rows: list[dict]
    judge: dict = field(default_factory=dict)  # "recipe", "test_accuracy", "samples", "seed", "confident"
    kind = "betas"


def save_beta_table(path: os.PathLike, table: BetaTable) -> Path:
    numbers = torch.tensor([[row[c] for c in COLUMNS] for row in table.rows], dtype=torch.float64)  # (R, 7)
    shares = torch.tensor([row["class_shares"] for row in table.rows], dtype=torch.float64)  # (R, 10)
    return save_artifact(path, BetaTable.kind, {"table": numbers, "class_shares": shares},
                         {"columns": list(COLUMNS), "models": [row["model"] for row in table.rows],
                          "names": [row["name"] for row in table.rows], "judge": table.judge})


def _load_beta_table(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> BetaTable:
    try:
        columns, models, names, judge = (json.loads(metadata[k]) for k in ("columns", "models", "names", "judge"))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(path, f"bad metadata ({e})") from None
    numbers, shares = tensors.get("table"), tensors.get("class_shares")
    if columns != list(COLUMNS):
        raise CheckpointError(path, f"a beta table has the columns {list(COLUMNS)}, found {columns!r}")
    if numbers is None or shares is None or numbers.ndim != 2 or numbers.shape[1] != len(COLUMNS) \
            or shares.shape != (numbers.shape[0], 10):
        raise CheckpointError(path, f"a beta table holds (R, {len(COLUMNS)}) numbers and (R, 10) class shares")
    rows = len(numbers)
    if not (isinstance(models, list) and isinstance(names, list) and len(models) == len(names) == rows
            and all(isinstance(m, str) and m for m in models + names)):
        raise CheckpointError(path, f"a beta table names the model file and name of each of its {rows} rows")
    if not isinstance(judge, dict):
        raise CheckpointError(path, "bad metadata (judge must be an object)")
    if not torch.isfinite(numbers).all() or (numbers[:, 0] < 0).any() or not torch.isfinite(shares).all():
        raise CheckpointError(path, "a beta table's numbers must be finite and its betas at least 0")
    table = [dict(zip(COLUMNS, map(float, row), strict=True)) | {"class_shares": s, "model": m, "name": n}
             for row, s, m, n in zip(numbers.tolist(), shares.tolist(), models, names, strict=True)]
    return BetaTable(sorted(table, key=lambda r: r["beta"]), judge)


def load_beta_table(path: os.PathLike) -> BetaTable:
    """weights/betas.safetensors as a BetaTable; CheckpointError names what is off (missing, corrupt, wrong kind)."""
    kind, metadata, tensors = read_artifact(path)
    if kind != BetaTable.kind:
        raise CheckpointError(path, f"kind is {kind!r}, expected {BetaTable.kind!r}")
    return _load_beta_table(Path(path), metadata, tensors)


def beta_table(weights_dir: os.PathLike = WEIGHTS_DIR) -> list[dict]:
    """The rows of weights_dir's beta table, in order of beta: each a dict of beta, mse (test, mean code), kl and
    elbo (mean test KL and negative ELBO, nats per digit), confident_share, min_class_share, max_class_share and
    class_shares (of 1,000 decoded prior draws, as the judge labels them), model (the checkpoint's file name)
    and name (its name in the catalogue). Raises CheckpointError if the file is missing or malformed."""
    return load_beta_table(Path(weights_dir) / FILE).rows
