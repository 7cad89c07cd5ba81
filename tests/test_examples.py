"""The main job (python -m jitgrad.examples.train) through its public entry point."""
import numpy as np
import pytest

import jitgrad as jg
from jitgrad.examples import train


def test_quick_mlp_run_reports_each_epoch(capsys):
    history = train.main(["--quick", "--epochs", "2", "--no-progress"])
    out = capsys.readouterr().out
    assert [h["epoch"] for h in history] == [1, 2]
    assert "first step took" in out and "final test acc" in out
    assert 0.0 <= history[-1]["score"] <= 1.0


def test_resumed_run_ends_with_the_same_weights(tmp_path):
    """An uninterrupted 3-epoch run vs resuming its epoch-1 checkpoint: the same shuffles,
    dropout masks, optimizer and scheduler state, so bit-identical weights at the end."""
    pattern = str(tmp_path / "run-{epoch}.jg")
    train.main(["--quick", "--epochs", "3", "--no-progress", "--save", pattern])
    resumed = tmp_path / "resumed.jg"
    train.main(["--quick", "--epochs", "3", "--no-progress", "--resume",
                pattern.format(epoch=1), "--save", str(resumed)])
    a, b = jg.load(pattern.format(epoch=3)), jg.load(resumed)
    assert a["epoch"] == b["epoch"] == 3 and list(a["model"]) == list(b["model"])
    for k in a["model"]:
        assert np.array_equal(a["model"][k], b["model"][k]), k
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]


def test_bad_arguments_exit_with_a_message():
    with pytest.raises(SystemExit):
        train.parse(["--model", "transformer"])
    with pytest.raises(SystemExit):
        train.parse(["--epochs", "0"])
