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


def test_unrolled_rnn_rejects_sizes_that_disagree_with_the_layer():
    with pytest.raises(ValueError, match="`units`"):
        plot_unrolled_rnn(built_vanilla_rnn(units=16), units=8)


def test_unrolled_rnn_rejects_output_dim_for_a_layer_without_head():
    with pytest.raises(ValueError, match="`output_dim`"):
        plot_unrolled_rnn(built_vanilla_rnn(units=8, output_dim=None), output_dim=4)


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


def test_bptt_labels_the_backward_recurrence_with_W_transpose_diag():
    texts = all_texts(plot_bptt(timesteps=3))
    assert any(r"W^\top\mathrm{diag}(1-h_{3}^2)" in text for text in texts)


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
