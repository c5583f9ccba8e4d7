"""What the codes are worth as features: the accuracy table stored with weights/classifier.safetensors, or
measured again on MNIST, and the latent map's figures.

    python -m benchmarks.features                              # the stored figures
    python -m benchmarks.features --data-dir ../shared/data    # measure the table again (~2 minutes on 2 cores)

The table: the same classifier (standardised inputs, logistic regression) on pixels, on the codes of the
autoencoders the manifest's classifier entry compares, and on PCA with as many numbers, trained with all
60,000 labels and with 10 labels per class (the mean and spread over 10 draws), scored on the 10,000 test
digits.
"""

import argparse

from ae.artifacts import load
from ae.build import classifier_features
from ae.checkpoint import WEIGHTS_DIR, read_manifest
from ae.classify import accuracy_table, table_markdown
from ae.data import load_mnist


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root: measure the table again")
    args = p.parse_args()
    entry = read_manifest()["artifacts"]["classifier.safetensors"]
    classifier = load(WEIGHTS_DIR / "classifier.safetensors")
    table = classifier.metrics["table"]
    if args.data_dir:
        train, test = load_mnist(args.data_dir, train=True), load_mnist(args.data_dir, train=False)
        table = accuracy_table(classifier_features(entry, WEIGHTS_DIR), train.images, train.labels, test.images,
                               test.labels, per_class=entry.get("per_class", 10), draws=entry.get("draws", 10))
    accuracy = classifier.metrics["test_accuracy"]
    print(f"The served classifier (on {classifier.model}'s codes): test accuracy {accuracy:.2%}")
    print(table_markdown(table))
    m = load(WEIGHTS_DIR / "map.safetensors")
    print(f"\nThe map: {len(m)} test digits; PCA's two axes hold {sum(m.metrics['pca_explained_variance']):.1%} of the "
          f"codes' variance. Share of each digit's 10 nearest that have its class: in code space "
          f"{m.metrics['code_neighbour_agreement']:.1%}, on the PCA map {m.metrics['pca_neighbour_agreement']:.1%}, "
          f"on the t-SNE map {m.metrics['tsne_neighbour_agreement']:.1%}.")


if __name__ == "__main__":
    main()
