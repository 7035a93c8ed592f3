"""Cell comparison: the long-range tasks and the tidy result tables."""

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
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
