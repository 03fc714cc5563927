"""`torch.utils._pytree`: flattening nested containers of values (tuples, lists, dicts, namedtuples, and the types
registered with `register_pytree_node`) into leaves and a TreeSpec, and back. Private in torch, but programs and
libraries import it; this is the part they use. The flattening itself is torch.func's (ndgrad/func)."""
from __future__ import annotations

from typing import Any, Callable

from ..func import _LEAF, _NODES, _flatten, _num_leaves, _spec_repr, _unflatten

__all__ = ["TreeSpec", "LeafSpec", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure", "tree_map",
           "tree_map_only", "tree_all", "tree_any", "register_pytree_node"]


class TreeSpec:
    """The structure of a pytree: its node types, their contexts (dict keys...) and the number of leaves."""
    __slots__ = ("_spec",)

    def __init__(self, spec: Any) -> None:
        self._spec = spec

    @property
    def num_leaves(self) -> int:
        return _num_leaves(self._spec)

    def is_leaf(self) -> bool:
        return self._spec is _LEAF

    def unflatten(self, leaves: Any) -> Any:
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to a "
                             f"pytree that holds {self.num_leaves} items ({self!r}).")
        return _unflatten(leaves, self._spec)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, TreeSpec) and self._spec == other._spec

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return _spec_repr(self._spec)


def LeafSpec() -> TreeSpec:  # noqa: N802  (torch's name)
    """The spec of a single leaf."""
    return TreeSpec(_LEAF)


def tree_flatten(tree: Any, is_leaf: Callable | None = None) -> tuple[list, TreeSpec]:
    """(leaves, spec) of `tree`."""
    if is_leaf is not None:
        raise NotImplementedError("ndgrad: tree_flatten(is_leaf=...) is not supported")
    leaves, spec = _flatten(tree)
    return leaves, TreeSpec(spec)


def tree_unflatten(leaves: Any, treespec: TreeSpec) -> Any:
    """The pytree of `treespec`'s structure holding `leaves`."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"tree_unflatten(leaves, treespec): Expected `treespec` to be instance of TreeSpec but got "
                        f"item of type {type(treespec)}.")
    return treespec.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable | None = None) -> list:
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable | None = None) -> TreeSpec:
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func: Callable, tree: Any, *rests: Any, is_leaf: Callable | None = None) -> Any:
    """`tree` with `func` applied to each leaf (and to the matching leaves of `rests`, of the same structure)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_leaves_like(r, spec) for r in rests]
    return spec.unflatten([func(*xs) for xs in zip(leaves, *others)])


def _leaves_like(tree: Any, spec: TreeSpec) -> list:
    leaves, other = tree_flatten(tree)
    if other != spec:
        raise ValueError(f"Tree structure mismatch: expected {spec!r}, got {other!r}")
    return leaves


def tree_map_only(type_or_types: Any, func: Callable, tree: Any, *rests: Any, is_leaf: Callable | None = None) -> Any:
    """tree_map, applying `func` only to leaves of the given type(s); others are kept."""
    return tree_map(lambda x, *r: func(x, *r) if isinstance(x, type_or_types) else x, tree, *rests, is_leaf=is_leaf)


def tree_all(pred: Callable, tree: Any, is_leaf: Callable | None = None) -> bool:
    return all(map(pred, tree_leaves(tree, is_leaf)))


def tree_any(pred: Callable, tree: Any, is_leaf: Callable | None = None) -> bool:
    return any(map(pred, tree_leaves(tree, is_leaf)))


def register_pytree_node(cls: type, flatten_fn: Callable, unflatten_fn: Callable, *,
                         serialized_type_name: str | None = None, to_dumpable_context: Callable | None = None,
                         from_dumpable_context: Callable | None = None,
                         flatten_with_keys_fn: Callable | None = None) -> None:
    """Make `cls` a pytree node: `flatten_fn(obj) -> (children, context)`, `unflatten_fn(children, context) -> obj`.
    torch.func's transforms (vmap, grad...) see through it too."""
    if cls in _NODES or cls in (tuple, list, dict):
        raise ValueError(f"{cls} is already registered as pytree node.")
    _NODES[cls] = (flatten_fn, unflatten_fn)
