"""examples/train_digits.py: a real model on real data (scikit-learn's 8x8 digits), run as a user would."""
from __future__ import annotations

import importlib.util
import pathlib

import pytest

pytest.importorskip("sklearn")
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _example():
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "examples" / "train_digits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cnn_reaches_97_percent_and_writes_checkpoint_and_plot(tmp_path, capsys):
    import ndgrad
    results = _example().run(["--models", "cnn", "--out", str(tmp_path)])
    assert results["cnn"]["test_acc"] >= 0.97
    out = capsys.readouterr().out
    assert "cnn epoch 30" in out and "test acc" in out
    ckpt = ndgrad.load(tmp_path / "digits_cnn.pt")
    assert set(ckpt) == {"model", "optimizer", "history"}
    assert len(ckpt["history"]["test_acc"]) == 30
    # the checkpoint restores the trained model exactly
    model = _example().make_models(ndgrad)["cnn"]
    model.load_state_dict(ckpt["model"])
    xtr, ytr, xte, yte = _example().load_digits_split(0)
    model.eval()
    with ndgrad.no_grad():
        acc = (model(ndgrad.tensor(xte)).argmax(dim=1) == ndgrad.tensor(yte)).float().mean().item()
    assert acc == pytest.approx(results["cnn"]["test_acc"])
    png = tmp_path / "digits_loss.png"
    if importlib.util.find_spec("matplotlib"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mlp_short_run_learns(tmp_path):
    results = _example().run(["--models", "mlp", "--epochs", "3", "--out", str(tmp_path)])
    assert results["mlp"]["test_acc"] > 0.85
