"""Speed and memory benchmarks of `rnn_tf` (a source-checkout tool, not part of the package).

Run from the repository root: ``python -m benchmarks`` (or ``make bench``); see README.md here.

    contenders.py     what is timed: our layer and trainer, Keras SimpleRNN/GRU/LSTM, torch.nn.RNN
    timing.py         interleaved timing, per-round ratios, verdicts, log-log slopes
    machine.py        the CPU, memory, versions and load the numbers depend on
    train_step.py     suite 1: one training step and one inference pass, targets
    scaling.py        suite 2: time vs T and vs units, memory vs T (full vs truncated BPTT)
    memory_worker.py  one memory point, run as its own process
    report.py         JSON, Markdown tables, plots
    run.py            the command line
"""
