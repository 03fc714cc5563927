"""Training end to end, compared with torch: the same model code, the same starting weights (copied from torch
through state_dict), the same data; outputs, losses and every parameter after 10 optimizer steps must agree."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad

RNG = np.random.default_rng(0)


def _models(lib):
    nn = lib.nn
    return {
        "mlp": (lambda: nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 3)),
                (8, 6)),
        "bilinear": (lambda: _Bilinear(lib), (8, 6)),
        "cnn": (lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(4, 6, 3, stride=1), nn.GroupNorm(2, 6), nn.SiLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3)), (8, 2, 8, 8)),
        "conv1d_transpose": (lambda: nn.Sequential(nn.Conv1d(2, 4, 3), nn.ELU(), nn.AvgPool1d(2, stride=1),
                                                   nn.Unflatten(1, (4, 1)), nn.ConvTranspose2d(4, 2, 2, stride=2),
                                                   nn.Flatten(), nn.Linear(2 * 2 * 10, 3)),
                             (8, 2, 8)),
        "norms": (lambda: nn.Sequential(nn.Linear(6, 12), nn.LayerNorm(12), nn.LeakyReLU(0.1), nn.BatchNorm1d(12),
                                        nn.Mish(), nn.Dropout(0.0), nn.Linear(12, 3)), (8, 6)),
        "embedding_gru": (lambda: _Recurrent(lib, "GRU"), (8, 5)),
        "lstm": (lambda: _Recurrent(lib, "LSTM"), (8, 5)),
        "rnn": (lambda: _Recurrent(lib, "RNN"), (8, 5)),
        "attention": (lambda: _Attention(lib), (8, 4, 6)),
    }


def _Bilinear(lib):
    nn = lib.nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(6, 5)
            self.bil = nn.Bilinear(5, 6, 3)

        def forward(self, x):
            return self.bil(self.a(x).sigmoid(), x)
    return M()


def _Recurrent(lib, kind):
    nn = lib.nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4, padding_idx=0)
            self.rnn = getattr(nn, kind)(4, 6, num_layers=2, batch_first=True, bidirectional=kind != "RNN")
            self.head = nn.Linear(6 * (1 if kind == "RNN" else 2), 3)

        def forward(self, idx):
            out = self.rnn(self.emb(idx))[0]
            return self.head(out[:, -1])
    return M()


def _Attention(lib):
    nn = lib.nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.att = nn.MultiheadAttention(6, 2, batch_first=True)
            self.head = nn.Linear(6, 3)

        def forward(self, x):
            y, _ = self.att(x, x, x)
            return self.head(y.mean(dim=1))
    return M()


def _data(name, shape):
    if name in ("embedding_gru", "lstm", "rnn"):
        x = RNG.integers(0, 10, shape)
    else:
        x = RNG.standard_normal(shape)
    return x, RNG.integers(0, 3, shape[0])


OPTIMIZERS = {
    "SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adam": dict(lr=0.01, amsgrad=True),
    "AdamW": dict(lr=0.01, weight_decay=0.05),
    "RMSprop": dict(lr=0.005, momentum=0.5, centered=True),
}


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("name", list(_models(ndgrad)))
def test_ten_steps_like_torch(torch, name, opt_name):
    torch.manual_seed(0)
    t_model = _models(torch)[name][0]().double()
    n_model = _models(ndgrad)[name][0]().double()
    # identical starting weights: torch's initialisation, through state_dict
    n_model.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
    assert list(n_model.state_dict()) == list(t_model.state_dict())
    x, y = _data(name, _models(ndgrad)[name][1])
    results = []
    for lib, model in ((ndgrad, n_model), (torch, t_model)):
        opt = getattr(lib.optim, opt_name)(model.parameters(), **OPTIMIZERS[opt_name])
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        xt = lib.tensor(x) if x.dtype.kind == "i" else lib.tensor(x, dtype=lib.float64)
        yt = lib.tensor(y)
        losses = []
        model.train()
        for _ in range(10):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(xt), yt, label_smoothing=0.1)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        model.eval()
        with lib.no_grad():
            out = model(xt).numpy()
        results.append((losses, out, {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}))
    (la, oa, sa), (lb, ob, sb) = results
    np.testing.assert_allclose(la, lb, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(oa, ob, rtol=1e-8, atol=1e-10)
    for k in sb:
        np.testing.assert_allclose(sa[k], sb[k], rtol=1e-8, atol=1e-10, err_msg=k)
