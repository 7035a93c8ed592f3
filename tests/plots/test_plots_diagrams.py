"""The schematic figures: unrolled RNN, RNN types, BPTT."""

import keras
import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch
from plot_samples import all_texts, built_vanilla_rnn

from rnn_tf import VanillaRNN
from rnn_tf.plots import plot_bptt, plot_rnn_types, plot_unrolled_rnn

# --- plot_unrolled_rnn --------------------------------------------------------------


@pytest.mark.parametrize("expected", ["U: 3×16", "W: 16×16", "V: 16×4"])
def test_unrolled_rnn_annotates_the_built_layers_weight_shapes(expected):
    fig = plot_unrolled_rnn(built_vanilla_rnn(units=16, output_dim=4, input_dim=3))
    assert expected in all_texts(fig)


def test_unrolled_rnn_reads_shapes_from_the_layer_not_a_template():
    fig = plot_unrolled_rnn(built_vanilla_rnn(units=7, output_dim=2, input_dim=5))
    assert "U: 5×7" in all_texts(fig)


def test_unrolled_rnn_reads_a_keras_simple_rnn_too():
    simple = keras.layers.SimpleRNN(5)
    simple.build((None, 4, 3))
    assert "W: 5×5" in all_texts(plot_unrolled_rnn(simple))


def test_unrolled_rnn_annotates_sizes_given_without_a_layer():
    fig = plot_unrolled_rnn(input_dim=5, units=7, output_dim=2)
    assert "V: 7×2" in all_texts(fig)


def test_unrolled_rnn_draws_one_hidden_node_per_timestep():
    texts = all_texts(plot_unrolled_rnn(timesteps=6))
    assert "$h_{6}$" in texts and "$h_{7}$" not in texts


def test_unrolled_rnn_puts_the_shared_U_on_every_steps_arrow():
    texts = all_texts(plot_unrolled_rnn(timesteps=5))
    # Five unrolled steps plus the folded cell.
    assert texts.count("U") == 5 + 1


def test_unrolled_rnn_draws_arrows_as_patches():
    fig = plot_unrolled_rnn(timesteps=4)
    arrows = fig.axes[0].findobj(FancyArrowPatch)
    # x->h, h->h and h->y per step, plus the folded cell's three.
    assert len(arrows) >= 3 * 4 + 3


def test_unrolled_rnn_without_output_head_draws_no_V():
    texts = all_texts(plot_unrolled_rnn(built_vanilla_rnn(units=8, output_dim=None)))
    assert not any(text.startswith("V") for text in texts)


def test_unrolled_rnn_rejects_an_unbuilt_layer():
    with pytest.raises(ValueError, match="`layer`"):
        plot_unrolled_rnn(VanillaRNN(4))


def test_unrolled_rnn_rejects_a_gated_layer():
    lstm = keras.layers.LSTM(4)
    lstm.build((None, 5, 3))
    with pytest.raises(ValueError, match="`layer`.*vanilla"):
        plot_unrolled_rnn(lstm)


@pytest.mark.parametrize("sizes", [{"units": 16}, {"units": 8}, {"output_dim": 4}])
def test_unrolled_rnn_takes_sizes_from_the_layer_or_the_arguments_not_both(sizes):
    # Even sizes that agree with the layer: one source of truth per call.
    with pytest.raises(ValueError, match="`layer`.*not both"):
        plot_unrolled_rnn(built_vanilla_rnn(units=16, output_dim=4), **sizes)


def test_unrolled_rnn_title_uses_row_vectors_like_the_code():
    title = plot_unrolled_rnn(built_vanilla_rnn())._suptitle.get_text()
    assert r"x_t U + h_{t-1} W + b" in title and r"h_t V + c" in title
    assert "U x_t" not in title and "V h_t" not in title


@pytest.mark.parametrize("timesteps", [0, 11, 2.5, "4"])
def test_unrolled_rnn_rejects_bad_timesteps(timesteps):
    with pytest.raises(ValueError, match="`timesteps`"):
        plot_unrolled_rnn(timesteps=timesteps)


# --- plot_rnn_types -----------------------------------------------------------------


def test_rnn_types_draws_five_panels():
    assert len(plot_rnn_types().axes) == 5


@pytest.mark.parametrize(
    "application",
    ["image classification", "captioning", "sentiment", "tagging", "translation"],
)
def test_rnn_types_captions_an_example_application(application):
    assert any(application in text for text in all_texts(plot_rnn_types()))


def test_rnn_types_titles_each_panel_with_its_type():
    titles = [ax.get_title() for ax in plot_rnn_types().axes]
    assert titles[:3] == ["one-to-one", "one-to-many", "many-to-one"]


# --- plot_bptt ----------------------------------------------------------------------


def _dashed_arrows(fig):
    return [
        a for a in fig.axes[0].findobj(FancyArrowPatch) if a.get_linestyle() not in ("-", "solid")
    ]


def test_bptt_draws_dashed_backward_arrows_through_V_and_W():
    # One per step from L_t down to h_t, one per step boundary from h_t to h_{t-1}.
    assert len(_dashed_arrows(plot_bptt(timesteps=4))) == 4 + 3


def test_bptt_labels_each_backward_step_as_the_gradient_of_a_t_times_W_transpose():
    texts = all_texts(plot_bptt(timesteps=3))
    assert r"$\partial L/\partial a_{3}\,W^\top$" in texts
    assert r"$\partial L/\partial a_{2}\,W^\top$" in texts


def test_bptt_writes_the_row_vector_recurrence():
    text = "\n".join(all_texts(plot_bptt(timesteps=3)))
    assert r"(\hat{y}_t - y_t)\,V^\top + \partial L/\partial a_{t+1}\,W^\top" in text
    assert r"x_t^\top\,\partial L/\partial a_t" in text
    # Column-vector forms (W^T diag(...) dL/dh, V^T (y^ - y)) would not type-check here.
    assert r"\mathrm{diag}" not in text and r"V^\top(" not in text


def test_bptt_writes_step_loss_values_in_the_loss_boxes():
    texts = all_texts(plot_bptt(step_losses=[0.9, 0.7, 0.45]))
    assert "$L_{3}$ = 0.45" in texts


def test_bptt_draws_one_bar_per_step_loss():
    fig = plot_bptt(step_losses=np.array([0.9, 0.7, 0.45, 0.2]))
    assert len(fig.axes[1].patches) == 4


def test_bptt_takes_the_number_of_steps_from_step_losses():
    texts = all_texts(plot_bptt(step_losses=[1.0, 2.0]))
    assert "$x_{2}$" in texts and "$x_{3}$" not in texts


@pytest.mark.parametrize("step_losses", [[[0.1, 0.2]], [], [0.1, np.nan], "abc"])
def test_bptt_rejects_bad_step_losses(step_losses):
    with pytest.raises(ValueError, match="`step_losses`"):
        plot_bptt(step_losses=step_losses)
