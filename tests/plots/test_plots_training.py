"""Training figures: learning curves, comparison table, accuracy vs length."""

import keras
import numpy as np
import pandas as pd
import pytest
from plot_samples import accuracy_frame, all_texts, comparison_frame, histories

from rnn_tf.plots import plot_accuracy_vs_length, plot_comparison_table, plot_training_curves

# --- plot_training_curves -----------------------------------------------------------


def test_training_curves_add_an_accuracy_panel_when_recorded():
    assert len(plot_training_curves(histories()).axes) == 2


def test_training_curves_show_only_loss_without_accuracy():
    assert len(plot_training_curves({"vanilla": {"loss": [1.0, 0.5]}}).axes) == 1


def test_training_curves_say_what_the_loss_is():
    history = {"lstm": {"loss": [1.0, 0.5]}}
    assert plot_training_curves(history).axes[0].get_ylabel() == "loss (the training objective)"
    figure = plot_training_curves(history, loss_label="mean squared error")
    assert figure.axes[0].get_ylabel() == "mean squared error"


def test_training_curves_draw_train_and_validation_per_model():
    # Three models, each a training and a validation curve.
    assert len(plot_training_curves(histories()).axes[0].lines) == 6


def test_training_curves_dash_the_validation_curve():
    fig = plot_training_curves({"m": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}})
    assert [line.get_linestyle() for line in fig.axes[0].lines] == ["-", "--"]


def test_training_curves_count_epochs_from_one():
    line = plot_training_curves({"m": {"loss": [1.0, 0.5, 0.2]}}).axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])


def test_training_curves_ask_for_the_history_dict_of_a_keras_history_object():
    history = keras.callbacks.History()
    history.history = {"loss": [1.0, 0.6], "accuracy": [0.5, 0.7]}
    with pytest.raises(ValueError, match=r"`histories`.*'vanilla'.*history\.history"):
        plot_training_curves({"vanilla": history})
    assert len(plot_training_curves({"vanilla": history.history}).axes) == 2


def test_training_curves_draw_only_the_documented_keys():
    logs = {"loss": [1.0, 0.6], "sparse_categorical_accuracy": [0.5, 0.7], "lr": [0.1, 0.1]}
    assert len(plot_training_curves({"vanilla": logs}).axes) == 1


def test_training_curves_name_each_model_in_the_legend():
    texts = all_texts(plot_training_curves(histories()))
    assert {"vanilla", "gru", "lstm"} <= set(texts)


@pytest.mark.parametrize("bad", [{}, [{"loss": [1.0]}], {"m": {"accuracy": [0.5]}}, {"m": 3}])
def test_training_curves_reject_histories_without_loss(bad):
    with pytest.raises(ValueError, match="`histories`"):
        plot_training_curves(bad)


def test_training_curves_reject_validation_of_another_length():
    with pytest.raises(ValueError, match="`histories`.*'val_loss'"):
        plot_training_curves({"m": {"loss": [1.0, 0.5, 0.3], "val_loss": [1.0]}})


# --- plot_comparison_table ----------------------------------------------------------


def test_comparison_table_draws_one_panel_per_metric():
    titles = [ax.get_title() for ax in plot_comparison_table(comparison_frame()).axes]
    assert titles == ["validation accuracy", "validation loss", "training time", "parameters"]


def test_comparison_table_draws_one_bar_per_cell():
    assert len(plot_comparison_table(comparison_frame()).axes[0].patches) == 4


def test_comparison_table_reads_only_the_compare_cells_column_names():
    frame = pd.DataFrame({"cell": ["gru"], "val_accuracy": [0.9]})
    with pytest.raises(ValueError, match="`df`.*'final_val_accuracy'"):
        plot_comparison_table(frame)


def test_comparison_table_skips_absent_metrics():
    frame = comparison_frame()[["cell", "parameters"]]
    assert len(plot_comparison_table(frame).axes) == 1


def test_comparison_table_averages_repeated_runs():
    frame = pd.DataFrame({"cell": ["gru", "gru"], "final_val_accuracy": [0.8, 0.9]})
    bar = plot_comparison_table(frame).axes[0].patches[0]
    assert bar.get_width() == pytest.approx(0.85)


def test_comparison_table_names_diverged_runs_and_averages_the_others():
    frame = pd.DataFrame({"cell": ["irnn", "irnn", "irnn", "gru"],
                          "final_val_loss": [0.2, np.nan, 0.4, 0.1],
                          "diverged": [False, True, False, False]})
    ax = plot_comparison_table(frame).axes[0]
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == ["irnn\n(1 of 3 diverged)", "gru"]
    assert ax.patches[0].get_width() == pytest.approx(0.3)


@pytest.mark.parametrize("other_form", ["records", "list"])
def test_comparison_table_asks_for_a_dataframe(other_form):
    with pytest.raises(ValueError, match="`df` must be a pandas DataFrame.*'cell'"):
        plot_comparison_table(comparison_frame().to_dict(other_form))


def test_comparison_table_names_the_missing_cell_column():
    with pytest.raises(ValueError, match="`df`.*'cell'"):
        plot_comparison_table(comparison_frame().drop(columns="cell"))


def test_comparison_table_lists_accepted_metric_columns_when_none_present():
    with pytest.raises(ValueError, match="`df`.*'seconds_per_epoch'"):
        plot_comparison_table(pd.DataFrame({"cell": ["gru"], "score": [1.0]}))


def test_comparison_table_names_a_non_numeric_column():
    frame = comparison_frame().astype({"parameters": str})
    frame.loc[0, "parameters"] = "4k"
    with pytest.raises(ValueError, match="`df`.*'parameters'"):
        plot_comparison_table(frame)


def test_comparison_table_rejects_a_non_table():
    with pytest.raises(ValueError, match="`df`"):
        plot_comparison_table(42)


# --- plot_accuracy_vs_length --------------------------------------------------------


def test_accuracy_vs_length_draws_one_line_per_cell_plus_chance():
    assert len(plot_accuracy_vs_length(accuracy_frame(), chance=0.5).axes[0].lines) == 3 + 1


def test_accuracy_vs_length_averages_repeated_runs():
    frame = pd.DataFrame({"cell": ["gru"] * 2, "delay": [5, 5], "accuracy": [0.8, 0.9]})
    line = plot_accuracy_vs_length(frame).axes[0].lines[0]
    assert line.get_ydata()[0] == pytest.approx(0.85)


def test_accuracy_vs_length_names_the_delay_column_when_given_another():
    frame = accuracy_frame().rename(columns={"delay": "length"})
    with pytest.raises(ValueError, match="`df`.*'delay'"):
        plot_accuracy_vs_length(frame)


def test_accuracy_vs_length_names_the_missing_length_column():
    with pytest.raises(ValueError, match="`df`.*'delay'"):
        plot_accuracy_vs_length(accuracy_frame().drop(columns="delay"))


def test_accuracy_vs_length_rejects_percentages():
    frame = accuracy_frame().assign(accuracy=lambda f: f["accuracy"] * 100)
    with pytest.raises(ValueError, match="`df`.*fractions"):
        plot_accuracy_vs_length(frame)


def test_accuracy_vs_length_rejects_a_chance_level_outside_zero_one():
    with pytest.raises(ValueError, match="`chance`"):
        plot_accuracy_vs_length(accuracy_frame(), chance=50)


def test_comparison_of_a_regression_task_has_no_empty_accuracy_panel():
    frame = pd.DataFrame({"cell": ["vanilla", "gru"], "final_val_loss": [0.16, 0.003],
                          "final_val_accuracy": [np.nan, np.nan]})
    fig = plot_comparison_table(frame)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["validation loss"], titles
    assert "nats" not in fig.axes[0].get_xlabel()
