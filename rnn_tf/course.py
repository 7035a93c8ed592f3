"""The few lines every notebook starts and ends with: seeds, the figures folder, the report.

Notebooks stay thin: they call `start(...)` once, `save(fig, name)` for each figure
(which also returns the figure so Jupyter shows it), and `report(...)` at the end to
print the numbers they measured.
"""

from __future__ import annotations

import os
import pathlib
import platform

import keras


class Course:
    """Per-notebook settings: seed, SMOKE flag and where figures are written."""

    def __init__(self, seed: int, figures_dir: str | os.PathLike, smoke: bool):
        self.seed = seed
        self.smoke = smoke
        self.figures_dir = pathlib.Path(figures_dir)
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        self.saved: list[pathlib.Path] = []

    def save(self, fig, name: str, dpi: int = 120):
        """Write `fig` as `<figures_dir>/<name>.png` and return it for display."""
        from rnn_tf.plots import save_figure

        self.saved += save_figure(fig, self.figures_dir / name, formats=("png",), dpi=dpi)
        return fig

    def report(self, title: str, numbers: dict) -> None:
        """Print the measured numbers of a notebook as an aligned two-column table."""
        width = max(len(k) for k in numbers) if numbers else 0
        print(f"== {title} ==")
        for key, value in numbers.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            print(f"{key.ljust(width)}  {shown}")


def start(seed: int = 0, figures_dir: str | os.PathLike = "figures", smoke: bool = False) -> Course:
    """Seed Python, NumPy and TensorFlow, create the figures folder, print the setup."""
    keras.utils.set_random_seed(seed)
    import tensorflow as tf

    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices())
    print(
        f"rnn_tf {__import__('rnn_tf').__version__} | TensorFlow {tf.__version__} | "
        f"Keras {keras.__version__} | Python {platform.python_version()} | devices: {devices}"
        f" | SMOKE={smoke}"
    )
    return Course(seed, figures_dir, smoke)
