"""ndgrad.utils.data compared with torch.utils.data: datasets, samplers, collation, DataLoader, random_split.

Random orders come from ndgrad's own generator, so shuffled results are compared structurally (each
epoch a permutation, reproducible under a seed); everything deterministic is compared value for value.
"""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import ndgrad
from torchcmp import outcome

Point = collections.namedtuple("Point", "x y")


def _data(lib):
    return lib.utils.data


def _plain(x):
    """A library-independent description of a (nested) result."""
    name = type(x).__name__
    if name in ("Tensor", "Parameter"):
        return ("T", str(x.dtype), tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return (name, [(k, _plain(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (name, [_plain(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("nd", x.dtype.str, x.tolist())
    return (name, x)


def _both(f, torch):
    """f(lib) under torch and ndgrad: results must describe the same; errors must match class and text."""
    want, got = outcome(f, torch), outcome(f, ndgrad)
    assert got == want
    if want is None:
        assert _plain(f(ndgrad)) == _plain(f(torch))


def _tds(lib, n=10):
    return _data(lib).TensorDataset(lib.arange(n * 2.0).reshape(n, 2), lib.arange(n))


class ListDS:
    """A map-style dataset built from a Python list (works with either library)."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


SAMPLES = {
    "tensors": lambda lib: [lib.tensor([i, i + 0.5]) for i in range(5)],
    "ints": lambda lib: list(range(7)),
    "floats": lambda lib: [i / 4 for i in range(5)],
    "bools": lambda lib: [True, False, True],
    "strings": lambda lib: ["a", "bb", "ccc", "d"],
    "np_arrays": lambda lib: [np.full((2, 2), i, dtype=np.float32) for i in range(5)],
    "np_scalars": lambda lib: [np.int32(i) for i in range(5)],
    "np_float64": lambda lib: [np.float64(i) / 3 for i in range(5)],
    "dicts": lambda lib: [{"x": lib.ones(3) * i, "y": i, "name": f"n{i}"} for i in range(5)],
    "ordered": lambda lib: [collections.OrderedDict(b=i, a=float(i)) for i in range(5)],
    "tuples": lambda lib: [(lib.tensor(float(i)), i, "s") for i in range(5)],
    "lists": lambda lib: [[i, [i, 2.0 * i]] for i in range(5)],
    "namedtuples": lambda lib: [Point(lib.tensor([i]), i * 1.5) for i in range(5)],
    "nested": lambda lib: [{"p": Point([i, i], {"q": np.arange(3) + i})} for i in range(5)],
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (2, False), (2, True), (5, False), (None, False)])
def test_dataloader_batches_like_torch(torch, kind, batch_size, drop_last):
    def run(lib):
        loader = _data(lib).DataLoader(ListDS(SAMPLES[kind](lib)), batch_size=batch_size, drop_last=drop_last)
        return [len(loader), list(loader), list(loader)]
    _both(run, torch)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_default_collate_and_convert_like_torch(torch, kind):
    _both(lambda lib: _data(lib).default_collate(SAMPLES[kind](lib)), torch)
    _both(lambda lib: [_data(lib).default_convert(s) for s in SAMPLES[kind](lib)], torch)


@pytest.mark.parametrize("batch", [
    lambda lib: [object(), object()],
    lambda lib: [np.array(["a"]), np.array(["b"])],
    lambda lib: [np.array([object()], dtype=object)],
    lambda lib: [[1, 2], [1]],
    lambda lib: [lib.ones(2), lib.ones(3)],
    lambda lib: [{1, 2}],
    lambda lib: [None, None],
])
def test_default_collate_errors_like_torch(torch, batch):
    assert outcome(lambda lib: _data(lib).default_collate(batch(lib)), torch) is not None
    _both(lambda lib: _data(lib).default_collate(batch(lib)), torch)


def test_tensor_dataset(torch):
    _both(lambda lib: [len(_tds(lib)), _tds(lib)[3], _tds(lib)[-1], _tds(lib)[2:4], _tds(lib)[[1, 5]]], torch)
    _both(lambda lib: _tds(lib)[10], torch)
    _both(lambda lib: _data(lib).TensorDataset(lib.ones(3), lib.ones(4)), torch)


def test_tensor_dataset_loader_keeps_grad_and_dtypes(torch):
    def run(lib):
        ds = _data(lib).TensorDataset(lib.arange(12.0, dtype=lib.float64).reshape(6, 2),
                                      lib.tensor([1, 0, 1, 1, 0, 0], dtype=lib.int32), lib.arange(6) > 2)
        return [len(_data(lib).DataLoader(ds, batch_size=4)), list(_data(lib).DataLoader(ds, batch_size=4))]
    _both(run, torch)


def test_subset_concat_chain_stack(torch):
    def run(lib):
        D = _data(lib)
        ds = _tds(lib, 6)
        sub = D.Subset(ds, [4, 0, 2])
        cat = D.ConcatDataset([ds, sub])
        plus = ds + sub
        stk = D.StackDataset(ds, ListDS(list(range(6))))
        stk_kw = D.StackDataset(a=ListDS("abcdef"), b=ds)
        return [len(sub), sub[0], sub[-1], sub[[0, 2]], sub.__getitems__([1, 2]), len(cat), cat.cumulative_sizes,
                cat[5], cat[6], cat[-1], cat[-9], len(plus), plus[7], len(stk), stk[1], stk_kw[2],
                list(D.DataLoader(sub, batch_size=2)), list(D.DataLoader(cat, batch_size=4))]
    _both(run, torch)
    for bad in (lambda lib: _data(lib).ConcatDataset([_tds(lib)])[-11],
                lambda lib: _data(lib).ConcatDataset([_tds(lib)])[10],
                lambda lib: _data(lib).ConcatDataset([]),
                lambda lib: _data(lib).StackDataset(ListDS([1]), ListDS([1, 2])),
                lambda lib: _data(lib).StackDataset(),
                lambda lib: _data(lib).Dataset()[0],
                lambda lib: len(_data(lib).Dataset()),
                lambda lib: _data(lib).IterableDataset()):
        assert outcome(bad, torch) is not None
        _both(bad, torch)


def _counter(lib, n):
    class Counter(_data(lib).IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return n
    return Counter()


def test_iterable_dataset_and_chain(torch):
    def run(lib):
        D = _data(lib)
        ds = _counter(lib, 7)
        chain = ds + _counter(lib, 2)
        return [list(D.DataLoader(ds, batch_size=3)), list(D.DataLoader(ds, batch_size=3, drop_last=True)),
                len(D.DataLoader(ds, batch_size=3)), len(D.DataLoader(ds, batch_size=3, drop_last=True)),
                list(D.DataLoader(ds, batch_size=None)), list(chain), len(chain), type(chain).__name__,
                list(D.DataLoader(ds, batch_size=4, num_workers=0, shuffle=False))]
    _both(run, torch)
    for kw in (dict(shuffle=True), dict(sampler=[0, 1]), dict(batch_sampler=[[0, 1]])):
        bad = (lambda lib: _data(lib).DataLoader(_counter(lib, 3), **kw))
        assert outcome(bad, torch)[0] == "ValueError"
        assert outcome(bad, ndgrad)[0] == "ValueError"
        assert outcome(bad, ndgrad)[1].split(", but got")[0] == outcome(bad, torch)[1].split(", but got")[0]


@pytest.mark.parametrize("kw", [
    dict(batch_size=2, batch_sampler="BS"), dict(shuffle=True, batch_sampler="BS"),
    dict(drop_last=True, batch_sampler="BS"), dict(sampler="S", batch_sampler="BS"),
    dict(shuffle=True, sampler="S"), dict(batch_size=None, drop_last=True), dict(num_workers=-1),
    dict(timeout=-1), dict(batch_size=0), dict(batch_size=-1), dict(batch_size=2.5), dict(prefetch_factor=2),
    dict(persistent_workers=True), dict(drop_last=1),
])
def test_dataloader_argument_errors_like_torch(torch, kw):
    def make(lib):
        D = _data(lib)
        ds = _tds(lib)
        args = {k: (D.BatchSampler(D.SequentialSampler(ds), 3, False) if v == "BS" else
                    D.SequentialSampler(ds) if v == "S" else v) for k, v in kw.items()}
        return D.DataLoader(ds, **args)
    want = outcome(make, torch)
    assert want is not None and outcome(make, ndgrad) == want


def test_batch_sampler_sampler_lists_collate_fn_and_getitems(torch):
    def run(lib):
        D = _data(lib)
        ds = _tds(lib)
        bs = D.BatchSampler(D.SequentialSampler(range(7)), 3, False)
        calls = []

        class Batched(ListDS):
            def __getitems__(self, idx):
                calls.append(list(idx))
                return [self.items[i] for i in idx]
        return [list(D.DataLoader(ds, batch_sampler=bs)), len(D.DataLoader(ds, batch_sampler=bs)),
                list(D.DataLoader(ds, batch_sampler=[[9, 0], [3]])),
                list(D.DataLoader(ds, sampler=[5, 1, 1], batch_size=2)), len(D.DataLoader(ds, sampler=[5, 1, 1])),
                list(D.DataLoader(ds, batch_size=4, collate_fn=lambda b: len(b))),
                list(D.DataLoader(ds, batch_size=None, sampler=[2, 3], collate_fn=lambda s: s[1].item())),
                list(D.DataLoader(Batched(list(range(5))), batch_size=2)), calls,
                list(bs), len(bs), list(D.BatchSampler(range(7), 3, True)), len(D.BatchSampler(range(7), 3, True)),
                list(D.SequentialSampler(range(4))), len(D.SequentialSampler(range(4)))]
    _both(run, torch)


def test_num_workers_and_pin_memory_accepted(torch):
    def run(lib):
        ds = _tds(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(_data(lib).DataLoader(ds, batch_size=3, num_workers=2, pin_memory=True))
    _both(run, torch)


def test_loader_attributes_and_frozen_fields(torch):
    def run(lib):
        D = _data(lib)
        dl = D.DataLoader(_tds(lib), batch_size=4, shuffle=True)
        dl2 = D.DataLoader(_tds(lib), batch_size=None)
        return [type(dl.sampler).__name__, type(dl.batch_sampler).__name__, dl.batch_size, dl.drop_last,
                dl.num_workers, dl.collate_fn.__name__, dl2.collate_fn.__name__, dl2.batch_sampler,
                type(dl2.sampler).__name__, len(iter(dl)), dl.prefetch_factor]
    _both(run, torch)
    for attr in ("batch_size", "sampler", "dataset", "drop_last", "batch_sampler"):
        bad = (lambda lib: setattr(_data(lib).DataLoader(_tds(lib)), attr, None))
        assert outcome(bad, torch) is not None
        _both(bad, torch)
    dl = ndgrad.utils.data.DataLoader(_tds(ndgrad))
    dl.num_workers = 0   # other attributes may change


# -- randomness --------------------------------------------------------------------------------------------
def _epochs(loader, k=3):
    return [[int(i) for batch in loader for i in batch[1].tolist()] for _ in range(k)]


def test_shuffle_each_epoch_is_a_permutation_and_seed_reproduces():
    D = ndgrad.utils.data
    ds = _tds(ndgrad, 40)
    dl = D.DataLoader(ds, batch_size=6, shuffle=True, generator=ndgrad.Generator().manual_seed(3))
    ep = _epochs(dl)
    assert all(sorted(e) == list(range(40)) for e in ep)
    assert ep[0] != ep[1] and ep[0] != list(range(40))
    assert [len(b[0]) for b in dl] == [6] * 6 + [4]
    again = D.DataLoader(ds, batch_size=6, shuffle=True, generator=ndgrad.Generator().manual_seed(3))
    assert _epochs(again) == ep
    other = D.DataLoader(ds, batch_size=6, shuffle=True, generator=ndgrad.Generator().manual_seed(4))
    assert _epochs(other) != ep
    ndgrad.manual_seed(11)
    a = _epochs(D.DataLoader(ds, batch_size=5, shuffle=True), 2)
    ndgrad.manual_seed(11)
    b = _epochs(D.DataLoader(ds, batch_size=5, shuffle=True), 2)
    assert a == b and a[0] != a[1]
    dropped = D.DataLoader(ds, batch_size=6, shuffle=True, drop_last=True)
    assert len(dropped) == 6 and [len(b[0]) for b in dropped] == [6] * 6


def test_random_sampler(torch):
    D = ndgrad.utils.data
    g = ndgrad.Generator().manual_seed(0)
    s = list(D.RandomSampler(range(10), num_samples=25, generator=g))
    assert len(s) == 25
    assert sorted(s[:10]) == list(range(10)) and sorted(s[10:20]) == list(range(10)) and len(set(s[20:])) == 5
    r = list(D.RandomSampler(range(5), replacement=True, num_samples=100, generator=g))
    assert len(r) == 100 and set(r) == set(range(5))
    assert list(D.RandomSampler(range(9), generator=ndgrad.Generator().manual_seed(1))) == \
        list(D.RandomSampler(range(9), generator=ndgrad.Generator().manual_seed(1)))
    _both(lambda lib: [len(_data(lib).RandomSampler(range(6))), len(_data(lib).RandomSampler(range(6), True, 40)),
                       _data(lib).RandomSampler(range(6)).num_samples], torch)
    for bad in (dict(replacement=1), dict(num_samples=0), dict(num_samples=-1), dict(num_samples=3.0)):
        _both(lambda lib: _data(lib).RandomSampler(range(5), **bad), torch)
    _both(lambda lib: _data(lib).RandomSampler([]), torch)


def test_subset_random_sampler():
    D = ndgrad.utils.data
    idx = [3, 7, 11, 20, 21]
    s = D.SubsetRandomSampler(idx, generator=ndgrad.Generator().manual_seed(5))
    e1, e2 = list(s), list(s)
    assert sorted(e1) == sorted(e2) == idx and len(s) == 5
    assert list(D.SubsetRandomSampler(idx, generator=ndgrad.Generator().manual_seed(5))) == e1
    out = [int(b[1]) for b in D.DataLoader(_tds(ndgrad, 30), sampler=D.SubsetRandomSampler(idx))]
    assert sorted(out) == idx


def test_weighted_random_sampler(torch):
    D = ndgrad.utils.data
    g = ndgrad.Generator().manual_seed(0)
    draws = list(D.WeightedRandomSampler([1.0, 3.0, 0.0], 20000, generator=g))
    counts = np.bincount(draws, minlength=3)
    assert counts[2] == 0 and abs(counts[1] / 20000 - 0.75) < 0.02
    no_rep = list(D.WeightedRandomSampler([5, 1, 0, 2], 4, replacement=False, generator=g))
    assert sorted(no_rep) == [0, 1, 2, 3] and no_rep[-1] == 2          # the zero weight comes last
    assert len(set(D.WeightedRandomSampler(ndgrad.tensor([1.0, 2, 3, 4, 5]), 3, replacement=False))) == 3
    _both(lambda lib: [len(_data(lib).WeightedRandomSampler([1, 2], 7)),
                       _data(lib).WeightedRandomSampler([1, 2], 7).weights, sorted(set(_data(lib).WeightedRandomSampler(
                           [0, 0, 1.5, 0], 5))), sorted(_data(lib).WeightedRandomSampler([1, 0, 0], 2, False))[:1]],
          torch)
    for bad in (lambda lib: _data(lib).WeightedRandomSampler([1, 2], 0),
                lambda lib: _data(lib).WeightedRandomSampler([1, 2], 3, replacement=1),
                lambda lib: _data(lib).WeightedRandomSampler([[1, 2]], 3),
                lambda lib: list(_data(lib).WeightedRandomSampler([1, 2], 3, replacement=False)),
                lambda lib: list(_data(lib).WeightedRandomSampler([1, -2], 3)),
                lambda lib: list(_data(lib).WeightedRandomSampler([0, 0], 3)),
                lambda lib: list(_data(lib).WeightedRandomSampler([float("inf"), 1], 3)),
                lambda lib: list(_data(lib).WeightedRandomSampler([float("nan"), 1], 3))):
        assert outcome(bad, torch) is not None
        _both(bad, torch)


def test_batch_sampler_errors(torch):
    for bad in (lambda lib: _data(lib).BatchSampler(range(3), 0, False),
                lambda lib: _data(lib).BatchSampler(range(3), True, False),
                lambda lib: _data(lib).BatchSampler(range(3), 2, 1)):
        assert outcome(bad, torch) is not None
        _both(bad, torch)


@pytest.mark.parametrize("n,lengths", [
    (10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.3, 0.3, 0.4]), (7, [0.5, 0.5]), (101, [0.8, 0.1, 0.1]),
    (7, [0.1] * 10), (5, [1.0]), (0, [0, 0]), (9, [0.25, 0.25, 0.5]),
])
def test_random_split_lengths_like_torch(torch, n, lengths):
    def run(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            parts = _data(lib).random_split(ListDS(list(range(n))), lengths, generator=lib.Generator().manual_seed(0))
        return [len(p) for p in parts], [str(x.message) for x in w], [type(p).__name__ for p in parts]
    assert run(ndgrad) == run(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = _data(ndgrad).random_split(ListDS(list(range(n))), lengths)
    assert sorted(x for p in parts for x in (p[i] for i in range(len(p)))) == list(range(n))


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [-0.5, 1.5], [11], [0.2, 0.2]])
def test_random_split_errors_like_torch(torch, lengths):
    bad = (lambda lib: _data(lib).random_split(ListDS(list(range(7))), lengths))
    assert outcome(bad, torch) is not None
    _both(bad, torch)


def test_random_split_seeded_and_default_generator():
    D = ndgrad.utils.data
    ds = ListDS(list(range(30)))

    def split(**kw):
        return [[p[i] for i in range(len(p))] for p in D.random_split(ds, [10, 20], **kw)]
    a = split(generator=ndgrad.Generator().manual_seed(42))
    assert a == split(generator=ndgrad.Generator().manual_seed(42))
    assert a != split(generator=ndgrad.Generator().manual_seed(1))
    ndgrad.manual_seed(7)
    b = split()
    ndgrad.manual_seed(7)
    assert split() == b and b != [list(range(10)), list(range(10, 30))]
    assert sorted(a[0] + a[1]) == list(range(30))
    assert isinstance(D.random_split(ds, [10, 20])[0].indices, list)


def test_training_loop_over_a_loader():
    """A small end-to-end use: a linear fit over shuffled mini-batches converges."""
    D = ndgrad.utils.data
    g = ndgrad.Generator().manual_seed(0)
    x = ndgrad.linspace(-1, 1, 64).reshape(64, 1)
    y = 3 * x - 0.5
    w = ndgrad.zeros(1, requires_grad=True)
    b = ndgrad.zeros(1, requires_grad=True)
    opt = ndgrad.optim.SGD([w, b], lr=0.3)
    for _ in range(40):
        for xb, yb in D.DataLoader(D.TensorDataset(x, y), batch_size=16, shuffle=True, generator=g):
            opt.zero_grad()
            ((xb * w + b - yb) ** 2).mean().backward()
            opt.step()
    assert abs(w.item() - 3) < 1e-3 and abs(b.item() + 0.5) < 1e-3
