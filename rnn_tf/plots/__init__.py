"""Every tutorial figure: one function per figure, each returns a `matplotlib.figure.Figure`.

The functions take plain data (NumPy arrays, dicts, tidy pandas DataFrames) or a
built layer, never call `plt.show()`, and never touch pyplot's global state;
`save_figure` writes a figure as PNG and SVG.
"""

from rnn_tf.plots.diagrams import plot_bptt, plot_rnn_types, plot_unrolled_rnn
from rnn_tf.plots.gradients import plot_clipping, plot_gradient_norms, plot_spectral_radius_sweep
from rnn_tf.plots.io import save_figure
from rnn_tf.plots.training import (
    plot_accuracy_vs_length,
    plot_comparison_table,
    plot_training_curves,
)

__all__ = [
    "plot_unrolled_rnn",
    "plot_rnn_types",
    "plot_bptt",
    "plot_gradient_norms",
    "plot_spectral_radius_sweep",
    "plot_clipping",
    "plot_training_curves",
    "plot_comparison_table",
    "plot_accuracy_vs_length",
    "save_figure",
]
