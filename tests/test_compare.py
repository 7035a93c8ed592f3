"""Cell comparison: the long-range tasks and the tidy result tables."""

import keras
import numpy as np
import pytest

from rnn_tf import compare, plots


def test_recall_task_labels_the_first_symbol_and_is_seeded():
    x, y = compare.recall_task(50, delay=6, num_symbols=3, seed=4)
    assert x.shape == (50, 7, 3) and y.shape == (50,)
    np.testing.assert_array_equal(x.sum(-1), 1.0)  # one-hot every step
    np.testing.assert_array_equal(x[:, 0].argmax(-1), y)
    x2, y2 = compare.recall_task(50, delay=6, num_symbols=3, seed=4)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, compare.recall_task(50, delay=6, num_symbols=3, seed=5)[0])


def test_adding_problem_target_is_the_sum_of_the_two_marked_values():
    x, y = compare.adding_problem(40, length=10, seed=0)
    assert x.shape == (40, 10, 2)
    np.testing.assert_array_equal(x[..., 1].sum(-1), 2.0)
    assert np.all(x[:, :5, 1].sum(-1) == 1) and np.all(x[:, 5:, 1].sum(-1) == 1)
    np.testing.assert_allclose((x[..., 0] * x[..., 1]).sum(-1), y, rtol=1e-6)


def test_compare_cells_returns_one_row_per_cell_with_histories():
    data = (compare.recall_task(96, 3, seed=0), compare.recall_task(32, 3, seed=1))
    table = compare.compare_cells(data, units=4, epochs=2, batch_size=32, verbose=0)
    assert list(table["cell"]) == list(compare.CELLS)
    for column in ("parameters", "seconds_per_epoch", "final_val_loss", "final_val_accuracy"):
        assert table[column].notna().all(), column
    assert (table["parameters"] > 0).all() and (table["seconds_per_epoch"] > 0).all()
    # Parameter counts follow the gate count: LSTM 4 blocks, GRU 3 (+ reset bias), simple 1.
    params = table.set_index("cell")["parameters"]
    assert params["vanilla"] == params["simple"] < params["gru"] < params["lstm"]
    assert set(table.attrs["histories"]) == set(compare.CELLS)
    assert all(len(h["val_loss"]) == 2 for h in table.attrs["histories"].values())
    # The table and its histories are exactly what the figures take.
    assert len(plots.plot_comparison_table(table).axes) == 4
    assert len(plots.plot_training_curves(table.attrs["histories"]).axes) == 2


def test_adding_problem_first_marker_is_carried_at_least_half_the_sequence():
    length = 20
    x, _ = compare.adding_problem(4000, length, seed=3)
    first = x[..., 1].argmax(-1)  # the first marked step (0-based)
    held = length - 1 - first  # steps the first value must be carried after it is shown
    assert held.min() == length // 2 and held.max() == length - 1
    # The first marker is uniform over the first half: held is 3/4 L - 1/2 on average
    # (the sample mean of 4,000 is within 0.2 of it: its standard error is 0.045).
    assert abs(held.mean() - (0.75 * length - 0.5)) < 0.2


def test_layers_chrono_and_irnn_are_built_as_documented():
    keras.utils.set_random_seed(0)
    lstm = compare.recurrent_layer("lstm_chrono", 3, t_max=40)
    lstm.build((None, 5, 2))
    b_i, b_f, b_g, b_o = np.split(lstm.cell.bias.numpy(), 4)
    assert not lstm.cell.unit_forget_bias
    np.testing.assert_allclose(b_i, -b_f)
    assert np.all((b_f >= 0) & (b_f <= np.log(39))) and not np.any(b_g) and not np.any(b_o)
    gru = compare.recurrent_layer("gru_chrono", 3, t_max=40)
    gru.build((None, 5, 2))
    bias = gru.cell.bias.numpy()
    assert np.all(bias[0, :3] >= 0) and not np.any(bias[0, 3:]) and not np.any(bias[1])
    irnn = compare.recurrent_layer("irnn", 3)
    irnn.build((None, 5, 2))
    np.testing.assert_array_equal(irnn.cell.W.numpy(), np.eye(3))
    with pytest.raises(ValueError, match="`t_max`"):
        compare.recurrent_layer("gru_chrono", 3)


def test_compare_cells_clips_the_global_norm():
    data = (compare.recall_task(32, 2, seed=0), compare.recall_task(8, 2, seed=1))
    table = compare.compare_cells(data, cells=("lstm_chrono",), units=2, epochs=1,
                                  clip_norm=0.5, verbose=0)
    assert table["cell"].tolist() == ["lstm_chrono"]
    with pytest.raises(ValueError, match="clip_norm"):
        compare.compare_cells(data, cells=("gru",), clip_norm=0, verbose=0)


def test_seeds_and_summary():
    runs = compare.sweep_delay(("vanilla", "gru_chrono"), delays=(3,), n_train=32, epochs=1,
                               units=2, seeds=(0, 1), verbose=0)
    assert list(zip(runs["cell"], runs["seed"])) == [
        ("vanilla", 0), ("gru_chrono", 0), ("vanilla", 1), ("gru_chrono", 1)]
    summary = compare.seed_summary(runs, "accuracy")
    assert list(summary["cell"]) == ["vanilla", "gru_chrono"] and (summary["count"] == 2).all()
    vanilla = runs[runs["cell"] == "vanilla"]["accuracy"]
    assert summary["mean"].iloc[0] == pytest.approx(vanilla.mean())
    assert summary["std"].iloc[0] == pytest.approx(np.std(vanilla, ddof=1))
    assert summary["runs"].iloc[0] == ", ".join(f"{a:.3g}" for a in vanilla)
    adding = compare.compare_over_seeds(
        lambda n, seed: compare.adding_problem(n, 5, seed=seed), ("irnn",), seeds=(4,),
        n_train=16, n_val=8, units=2, epochs=1, verbose=0,
    )
    assert adding["seed"].tolist() == [4] and list(adding.attrs["histories"]) == ["irnn, seed 4"]
    with pytest.raises(ValueError, match="`value`|columns"):
        compare.seed_summary(runs, "nothing")


def test_compare_cells_regression_and_sweep():
    data = (compare.adding_problem(64, 6, seed=0), compare.adding_problem(16, 6, seed=1))
    table = compare.compare_cells(data, cells=("gru",), units=4, epochs=1, verbose=0)
    assert table["final_val_accuracy"].isna().all() and np.isfinite(table["final_val_loss"]).all()
    sweep = compare.sweep_delay(("vanilla",), delays=(2, 3), n_train=32, epochs=1, units=4,
                                verbose=0)
    assert list(sweep["delay"]) == [2, 3]
    # Each row is compare_cells on that delay's recall data (8 held-out sequences, same seed).
    again = compare.compare_cells(
        (compare.recall_task(32, 3, seed=0), compare.recall_task(8, 3, seed=1)),
        cells=("vanilla",), units=4, epochs=1, verbose=0,
    )
    assert sweep["accuracy"].iloc[1] == pytest.approx(again["final_val_accuracy"].iloc[0])
    assert sweep["accuracy"].iloc[1] * 8 == pytest.approx(round(sweep["accuracy"].iloc[1] * 8))
    assert len(plots.plot_accuracy_vs_length(sweep).axes[0].lines) == 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: compare.recall_task(0, 3), "`n`"),
        (lambda: compare.recall_task(5, 3, num_symbols=1), "num_symbols"),
        (lambda: compare.adding_problem(5, 1), "length"),
        (lambda: compare.compare_cells(((np.zeros((2, 3)), [0, 1]), (np.zeros((2, 3)), [0, 1]))),
         r"data\[0\]"),
        (lambda: compare.compare_cells(
            (compare.recall_task(4, 2), compare.recall_task(4, 2)), cells=("rnn",)), "`cell`"),
        (lambda: compare.compare_cells(
            (compare.recall_task(4, 2), compare.recall_task(4, 2)), cells="gru"), "`cells`"),
        (lambda: compare.sweep_delay(cells=()), "`cells`"),
        (lambda: compare.compare_over_seeds(compare.adding_problem, ("gru",), seeds=()),
         "`seeds`"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_stop_at_ends_a_solved_run_and_leaves_an_unsolved_one_alone():
    data = compare.recall_task(400, 2, 4, seed=0), compare.recall_task(100, 2, 4, seed=1)
    table = compare.compare_cells(data, cells=("gru",), epochs=30, stop_at=0.9,
                                  learning_rate=1e-2, verbose=0)
    accuracy = table.attrs["histories"]["gru"]["val_accuracy"]
    assert accuracy[-1] >= 0.9 and all(a < 0.9 for a in accuracy[:-1]) and len(accuracy) < 30
    never = compare.compare_cells(data, cells=("gru",), epochs=3, stop_at=1.0, verbose=0,
                                  learning_rate=1e-5)
    assert len(never.attrs["histories"]["gru"]["val_accuracy"]) == 3


def test_a_run_whose_loss_blows_up_stops_and_is_marked_diverged():
    data = compare.adding_problem(64, 20, seed=0), compare.adding_problem(16, 20, seed=1)
    # relu with W = I and huge Adam steps: the state grows past float32 within the sequence.
    table = compare.compare_cells(data, cells=("irnn", "gru"), epochs=5, learning_rate=1e4,
                                  clip_norm=1e9, verbose=0)
    blown, bounded = table.set_index("cell").loc[["irnn", "gru"], "diverged"]
    assert blown and not bounded
    assert len(table.attrs["histories"]["irnn"]["loss"]) < 5
    row = table.set_index("cell").loc["irnn"]
    assert np.isnan(row["final_train_loss"]) and np.isnan(row["final_val_loss"])


def test_stop_at_is_refused_for_regression_and_out_of_range():
    data = compare.adding_problem(64, 5, seed=0), compare.adding_problem(16, 5, seed=1)
    with pytest.raises(ValueError, match="Argument `stop_at` applies to classification"):
        compare.compare_cells(data, cells=("gru",), epochs=1, stop_at=0.9, verbose=0)
    data = compare.recall_task(64, 2, 4, seed=0), compare.recall_task(16, 2, 4, seed=1)
    with pytest.raises(ValueError, match=r"Argument `stop_at` must be a finite number in \(0, 1\]"):
        compare.compare_cells(data, cells=("gru",), epochs=1, stop_at=1.5, verbose=0)
