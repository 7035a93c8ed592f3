"""Sample inputs for every figure function (imported by the tests; not a conftest so the
name cannot clash with another folder's helpers)."""

import matplotlib.text
import numpy as np
import pandas as pd

from rnn_tf import VanillaRNN, plots

INPUT_DIM, UNITS, OUTPUT_DIM = 3, 16, 4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STEPS = np.arange(1, 21)


def built_vanilla_rnn(units=UNITS, output_dim=OUTPUT_DIM, input_dim=INPUT_DIM):
    layer = VanillaRNN(units, output_dim=output_dim)
    layer.build((None, 5, input_dim))
    return layer


def gradient_norms_by_cell():
    return {
        "vanilla": 0.6 ** (STEPS[-1] - STEPS),
        "gru": 0.95 ** (STEPS[-1] - STEPS),
        "lstm": 0.98 ** (STEPS[-1] - STEPS),
    }


def spectral_sweep_frame(activations=("linear", "tanh")):
    rows = []
    for activation in activations:
        for radius in (0.5, 0.9, 1.0, 1.2, 1.5):
            effective = radius if activation == "linear" else min(radius, 0.97)
            for t in STEPS:
                rows.append(
                    {
                        "activation": activation,
                        "radius": radius,
                        "t": t,
                        "norm": effective ** (STEPS[-1] - t),
                    }
                )
    return pd.DataFrame(rows)


def histories():
    epochs = np.arange(8)
    result = {}
    for i, name in enumerate(("vanilla", "gru", "lstm")):
        result[name] = {
            "loss": list(1.0 * np.exp(-epochs / (3 + i)) + 0.1),
            "val_loss": list(1.0 * np.exp(-epochs / (3 + i)) + 0.2),
            "accuracy": list(1 - 0.5 * np.exp(-epochs / (2 + i))),
            "val_accuracy": list(0.95 - 0.5 * np.exp(-epochs / (2 + i))),
        }
    return result


def comparison_frame():
    return pd.DataFrame(
        {
            "cell": ["vanilla", "simple", "gru", "lstm"],
            "parameters": [4353, 4353, 12993, 17217],
            "seconds_per_epoch": [1.2, 1.1, 2.9, 3.4],
            "final_val_accuracy": [0.71, 0.70, 0.86, 0.87],
            "final_val_loss": [0.60, 0.61, 0.35, 0.33],
        }
    )


def accuracy_frame():
    rows = []
    for cell, slope in (("vanilla", 0.03), ("gru", 0.01), ("lstm", 0.005)):
        for delay in (2, 5, 10, 20, 40):
            for seed in range(2):
                accuracy = max(0.5, 1 - slope * delay - 0.01 * seed)
                rows.append({"cell": cell, "delay": delay, "accuracy": accuracy, "seed": seed})
    return pd.DataFrame(rows)


FIGURES = {
    "unrolled_rnn": lambda: plots.plot_unrolled_rnn(),
    "unrolled_rnn_with_layer": lambda: plots.plot_unrolled_rnn(built_vanilla_rnn()),
    "rnn_types": plots.plot_rnn_types,
    "bptt": lambda: plots.plot_bptt(),
    "bptt_with_losses": lambda: plots.plot_bptt(step_losses=[0.9, 0.7, 0.45, 0.2]),
    "gradient_norms": lambda: plots.plot_gradient_norms(gradient_norms_by_cell()),
    "spectral_radius_sweep": lambda: plots.plot_spectral_radius_sweep(spectral_sweep_frame()),
    "training_curves": lambda: plots.plot_training_curves(histories()),
    "comparison_table": lambda: plots.plot_comparison_table(comparison_frame()),
    "accuracy_vs_length": lambda: plots.plot_accuracy_vs_length(accuracy_frame(), chance=0.5),
    "clipping": lambda: plots.plot_clipping(),
    "reading": lambda: plots.plot_reading(
        {"a negation": (["not", "good", "at", "all"], {"gru": [0.5, 0.6, 0.3, 0.2]})}),
}


def all_texts(fig):
    """Every string drawn in the figure: titles, labels, annotations, legend entries."""
    return [text.get_text() for text in fig.findobj(matplotlib.text.Text)]
