"""Every tutorial figure: one function per figure, each returns a `matplotlib.figure.Figure`.

Each function takes its data in one documented form: the DataFrame or dict that
`rnn_tf.compare` / `rnn_tf.diagnostics` return, a dict of `History.history` dicts, an
array of a stated shape, or a built layer; anything else is a `ValueError` saying
what was expected. They never call `plt.show()` and never touch pyplot's global
state; `save_figure` writes a figure as PNG and SVG.

Equations on the figures use row vectors, as the code does (`x_t @ U`):
h_t = tanh(x_t U + h_{t-1} W + b), o_t = h_t V + c, U of shape (input_dim, units).
"""

from rnn_tf.plots.diagrams import plot_bptt, plot_rnn_types, plot_unrolled_rnn
from rnn_tf.plots.gates import plot_gates_along_sequence, plot_gru_cell, plot_lstm_cell
from rnn_tf.plots.gradients import plot_clipping, plot_gradient_norms, plot_spectral_radius_sweep
from rnn_tf.plots.io import save_figure
from rnn_tf.plots.reading import plot_reading
from rnn_tf.plots.training import (
    plot_accuracy_vs_length,
    plot_comparison_table,
    plot_training_curves,
)

__all__ = [
    "plot_unrolled_rnn",
    "plot_rnn_types",
    "plot_bptt",
    "plot_gru_cell",
    "plot_lstm_cell",
    "plot_gates_along_sequence",
    "plot_gradient_norms",
    "plot_spectral_radius_sweep",
    "plot_clipping",
    "plot_training_curves",
    "plot_comparison_table",
    "plot_accuracy_vs_length",
    "plot_reading",
    "save_figure",
]
