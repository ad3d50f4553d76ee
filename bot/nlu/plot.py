"""Draw an evaluation's confusion matrix as a PNG (matplotlib, the ``[plot]`` extra)."""

from __future__ import annotations

from pathlib import Path

from bot.core.errors import ConfigError
from bot.nlu.evaluate import EvaluationReport

__all__ = ["plot_confusion"]


def plot_confusion(report: EvaluationReport, path: Path) -> Path:
    """Write the confusion matrix of ``report`` to ``path``: rows are gold intents, columns predictions.

    Cells are coloured by the share of their row and labelled with the count.
    Raises ``ConfigError`` when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("--plot needs matplotlib: pip install 'civic-helpdesk[plot]'") from None
    labels, matrix = report.labels, report.matrix
    size = max(4.0, 0.45 * len(labels) + 2.5)
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    shares = [[count / (sum(row) or 1) for count in row] for row in matrix]
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("predicted intent")
    axes.set_ylabel("gold intent")
    axes.set_title(f"{report.total} examples, macro-F1 {report.macro_f1:.3f}, micro-F1 {report.micro_f1:.3f}")
    for row, counts in enumerate(matrix):
        for column, count in enumerate(counts):
            if count:
                colour = "white" if shares[row][column] > 0.5 else "black"
                axes.text(column, row, str(count), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the gold intent")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
