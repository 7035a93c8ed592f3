"""The gated-cell figures: the GRU and the LSTM with their gates."""

import keras
import matplotlib.figure
import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Circle, FancyArrowPatch
from plot_samples import all_texts

from rnn_tf.plots.gates import plot_gru_cell, plot_lstm_cell


def _built(cell_class, units=8, input_dim=3, **kwargs):
    cell = cell_class(units, **kwargs)
    cell.build((None, input_dim))
    return cell


@pytest.mark.parametrize("draw", [plot_gru_cell, plot_lstm_cell])
def test_returns_a_titled_figure_without_touching_pyplot(draw):
    before = plt.get_fignums()
    fig = draw()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.get_suptitle()
    assert plt.get_fignums() == before


@pytest.mark.parametrize(
    "draw, gate_names",
    [
        (plot_gru_cell, ["update", "reset", "candidate"]),
        (plot_lstm_cell, ["forget", "input", "candidate", "output"]),
    ],
)
def test_draws_one_box_per_gate(draw, gate_names):
    texts = all_texts(draw())
    for name in gate_names:
        assert sum(text.startswith(name + "\n") for text in texts) == 1, name


def test_gru_writes_the_reset_after_candidate_in_row_form():
    # Keras' default GRU applies r_t to h_{t-1} W_h + b'_h, not to h_{t-1} before W_h.
    caption = "\n".join(all_texts(plot_gru_cell()))
    assert r"r_t\odot(h_{t-1}W_h+b'_h)" in caption
    assert r"h_t=z_t\odot h_{t-1}+(1-z_t)\odot\tilde h_t" in caption


def test_lstm_writes_the_cell_state_update_in_row_form():
    caption = "\n".join(all_texts(plot_lstm_cell()))
    assert r"f_t=\sigma(x_tU_f+h_{t-1}W_f+b_f)" in caption
    assert r"c_t=f_t\odot c_{t-1}+i_t\odot g_t" in caption


@pytest.mark.parametrize("draw, ops", [(plot_gru_cell, 5), (plot_lstm_cell, 4)])
def test_draws_the_pointwise_operations_and_wires(draw, ops):
    # GRU: reset ⊙, keep ⊙, 1−, write ⊙, +.  LSTM: forget ⊙, write ⊙, +, output ⊙.
    ax = draw().axes[0]
    assert len(ax.findobj(Circle)) == ops
    assert len(ax.findobj(FancyArrowPatch)) >= 12


def test_gru_annotates_the_stacked_kernel_shapes_of_a_built_cell():
    texts = "\n".join(all_texts(plot_gru_cell(_built(keras.layers.GRUCell, units=8, input_dim=3))))
    assert "U (kernel) 3×24 = [U_z | U_r | U_h]" in texts
    assert "W (recurrent_kernel) 8×24" in texts
    assert "bias 2×24" in texts


def test_lstm_annotates_the_stacked_kernel_shapes_of_a_built_layer():
    layer = keras.layers.LSTM(5)
    layer.build((None, 7, 2))
    texts = "\n".join(all_texts(plot_lstm_cell(layer)))
    assert "U (kernel) 2×20 = [U_i | U_f | U_g | U_o]" in texts
    assert "bias 20" in texts


def test_without_a_layer_no_weight_shapes_are_claimed():
    assert not any("Keras weights" in text for text in all_texts(plot_gru_cell()))


def test_gru_figure_rejects_an_lstm_cell():
    with pytest.raises(ValueError, match="`layer` must be a keras.layers.GRU"):
        plot_gru_cell(_built(keras.layers.LSTMCell))


def test_lstm_figure_rejects_a_gru_cell():
    with pytest.raises(ValueError, match="`layer` must be a keras.layers.LSTM"):
        plot_lstm_cell(_built(keras.layers.GRUCell))


def test_rejects_an_unbuilt_cell():
    with pytest.raises(ValueError, match="build it first"):
        plot_gru_cell(keras.layers.GRUCell(4))


def test_gru_figure_rejects_reset_before():
    with pytest.raises(ValueError, match="reset_after=True"):
        plot_gru_cell(_built(keras.layers.GRUCell, reset_after=False))


def test_gates_along_sequence_sorts_units_by_keep_and_draws_keep_and_write():
    import numpy as np

    from rnn_tf.plots.gates import plot_gates_along_sequence

    rng = np.random.default_rng(0)
    keep = rng.uniform(0, 0.5, size=(6, 5, 4))
    keep[:, 1:, 2] = 0.95  # unit 2 keeps the most during the delay
    gates = {"GRU": {"keep": keep, "write": 1 - keep}, "LSTM": {"keep": keep, "write": keep}}
    fig = plot_gates_along_sequence(gates, top=2)
    heatmap, lines = fig.axes[0], fig.axes[2]
    shown = heatmap.images[0].get_array()
    np.testing.assert_allclose(shown[0], keep.mean(axis=0)[:, 2])  # most keeping on top
    assert [line.get_label() for line in lines.get_lines()[:2]] == ["unit 2: keep",
                                                                   "unit 2: write"]
    np.testing.assert_allclose(lines.get_lines()[1].get_ydata(), 1 - keep.mean(axis=0)[:, 2])
    with pytest.raises(ValueError, match="gates"):
        plot_gates_along_sequence({"GRU": {"keep": keep}})
    with pytest.raises(ValueError, match="same shape"):
        plot_gates_along_sequence({"GRU": {"keep": keep, "write": keep[:, :3]}})
