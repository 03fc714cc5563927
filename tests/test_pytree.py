"""torch.utils._pytree (ndgrad/utils/_pytree.py): flatten/unflatten, specs, maps, registered nodes, as torch's."""
from __future__ import annotations

import collections
import importlib

import pytest

import ndgrad

P = collections.namedtuple("P", "x y")
TREES = [{"a": [1, (2, 3)], "b": 4}, P(1, [2]), 5, [], collections.OrderedDict(a=1), ([1], {"k": (2,)})]


def _pt(lib):
    return importlib.import_module(lib.__name__ + ".utils._pytree")


@pytest.mark.parametrize("k", range(len(TREES)))
def test_flatten_and_specs_as_torch(torch, k):
    got = []
    for lib in (ndgrad, torch):
        p = _pt(lib)
        leaves, spec = p.tree_flatten(TREES[k])
        got.append((leaves, repr(spec), spec.num_leaves, p.tree_unflatten(leaves, spec) == TREES[k],
                    p.tree_structure(TREES[k]) == spec, p.tree_leaves(TREES[k])))
    assert got[0] == got[1]


def test_maps_predicates_and_errors_as_torch(torch):
    got = []
    for lib in (ndgrad, torch):
        p = _pt(lib)
        with pytest.raises(ValueError) as e:
            p.tree_unflatten([1], p.tree_structure([1, 2]))
        got.append((p.tree_map(lambda v: v + 1, (1, [2])), p.tree_map_only(int, lambda v: -v, (1, "a", 2.0)),
                    p.tree_map(lambda a, b: a + b, [1, 2], [10, 20]), p.tree_all(lambda v: v > 0, [1, 2]),
                    p.tree_any(lambda v: v > 1, [1, 2]), str(e.value)))
    assert got[0] == got[1]


def test_registered_node_flattens_and_vmaps_through(torch):
    out = []
    for lib in (ndgrad, torch):
        p = _pt(lib)

        class Pair:
            def __init__(self, a, b):
                self.a, self.b = a, b
        p.register_pytree_node(Pair, lambda o: ([o.a, o.b], None), lambda ch, ctx: Pair(*ch))
        leaves, spec = p.tree_flatten([Pair(1, 2), 3])
        with pytest.raises(ValueError, match="already registered as pytree node"):
            p.register_pytree_node(Pair, lambda o: ([], None), lambda c, x: None)
        v = lib.func.vmap(lambda o: o.a * o.b)(Pair(lib.arange(3.0), lib.full((3,), 2.0)))
        out.append((leaves, spec.num_leaves, p.tree_unflatten([5, 6, 7], spec)[0].b, v.tolist()))
    assert out[0] == out[1]
