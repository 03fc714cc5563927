"""Every tutorial scenario prints exactly what PyTorch 2.13 prints.

The expected texts are the "true output" column of the scenarios file (read off PyTorch 2.13.0);
where torch is installed, each scenario also runs under torch and the two outputs must match.
"""
from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import tutorial_scenarios as T  # noqa: E402

import ndgrad  # noqa: E402

EXPECTED = {
    "1": "tensor([15.])\n",
    "2": "tensor([6.])\ntensor([4.])\n",
    "3": "tensor([23.], grad_fn=<AddBackward0>)\ntensor([16.])\n",
    "4": "tensor([-0.3012])\n",
    "5": "tensor([0.2500])\n",
    "6": "tensor([-0.7500], requires_grad=True)\n",
    "7": "tensor([-0.7500], requires_grad=True)\n",
    "8": "RuntimeError: Only Tensors of floating point and complex dtype can require gradients\n",
    "9": "tensor([1., 0., 3.], grad_fn=<CustomReLUBackward>)\ntensor([1., 0., 1.])\n",
    "10": "tensor([4.])\n",
    "11": "tensor([16.])\n",
    "12": ("tensor([-20.0000, -15.5556, -11.1111,  -6.6667,  -2.2222,   2.2222,   6.6667,\n"
           "         11.1111,  15.5556,  20.0000])\nTrue (10,)\n"),
    "13": "tensor(4., grad_fn=<SQBackward>)\nSQBackward\ntensor(4.)\nTrue False\n",
    "14": "tensor([2., 3.], requires_grad=True)\nTrue\ntensor(13., grad_fn=<AddBackward0>)\ntensor([4., 3.])\n"
          "tensor([0., 0.])\n",
    "15": "tensor([4., 6.])\ntensor([2., 3.])\n",
    "16": "tensor([12., 12.])\n(tensor([12., 12.], grad_fn=<AddBackward0>),)\n(tensor([12.,  0.]),)\n",
    "17": "(tensor([2., 3., 4.]),)\n",
    "18": "tensor([ 4., 12.])\ntensor([[2., 0.],\n        [0., 4.]])\n",
}

NUMBERS = [title.split(".")[0] for title, _ in T.SCENARIOS]


def _output(lib, number: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        T.run(lib, [number])
    return buf.getvalue()


def test_every_scenario_has_an_expected_output():
    assert sorted(NUMBERS, key=int) == sorted(EXPECTED, key=int)


@pytest.mark.parametrize("number", NUMBERS)
def test_scenario_prints_torchs_output(number):
    assert _output(ndgrad, number) == EXPECTED[number]


@pytest.mark.parametrize("number", NUMBERS)
def test_scenario_matches_live_torch(number):
    torch = pytest.importorskip("torch")
    assert _output(ndgrad, number) == _output(torch, number)


def test_scenario_13_grad_fn_repr_looks_like_torch():
    x = ndgrad.tensor(2.0, requires_grad=True)
    assert re.fullmatch(r"<AddBackward0 object at 0x[0-9a-f]+>", repr((x + x).grad_fn))


def test_scenario_12_plots_with_matplotlib(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    x = ndgrad.linspace(-10, 10, 10, requires_grad=True)
    Y = x**2
    ndgrad.sum(x**2).backward()
    fig, ax = plt.subplots()
    ax.plot(x.detach().numpy(), Y.detach().numpy(), label="Y")
    ax.plot(x.detach().numpy(), x.grad.detach().numpy(), label="dY/dx")
    fig.savefig(tmp_path / "plot.png")
    plt.close(fig)
    assert (tmp_path / "plot.png").stat().st_size > 1000
