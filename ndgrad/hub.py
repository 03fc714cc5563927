"""`torch.hub`: the cache directory and loading from it, without the network.

ndgrad never downloads: `load_state_dict_from_url` loads the file when it is already in the hub cache
(`<hub dir>/checkpoints/<file name>`, as torch caches it) and otherwise says where to put it; `load` and
`list` work on a local repository directory (`source="local"`), whose `hubconf.py` is the user's own code.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any
from urllib.parse import urlparse

_hub_dir: list = [None]


def get_dir() -> str:
    """Mirrors `torch.hub.get_dir`: $TORCH_HOME/hub (default ~/.cache/torch/hub)."""
    if _hub_dir[0] is not None:
        return _hub_dir[0]
    home = os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))
    return os.path.join(home, "hub")


def set_dir(d: str | os.PathLike) -> None:
    _hub_dir[0] = os.path.expanduser(os.fspath(d))


def _no_network(what: str) -> NotImplementedError:
    return NotImplementedError(f"torch.hub.{what} is not available in ndgrad (it would need the network: ndgrad "
                               "never downloads)")


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    raise _no_network("download_url_to_file")


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location: Any = None,
                             progress: bool = True, check_hash: bool = False, file_name: str | None = None,
                             weights_only: bool = False) -> Any:
    """Load a checkpoint from the hub cache; raise a clear error when it is not cached (no download)."""
    model_dir = model_dir or os.path.join(get_dir(), "checkpoints")
    name = file_name or os.path.basename(urlparse(url).path)
    path = os.path.join(model_dir, name)
    if not os.path.exists(path):
        raise NotImplementedError(f"torch.hub.load_state_dict_from_url is not available in ndgrad for files that "
                                  f"are not cached (ndgrad never downloads): put {url} at {path}")
    from .serialization import load as _load
    return _load(path, map_location=map_location)


def _hubconf(repo_dir: str) -> Any:
    path = os.path.join(repo_dir, "hubconf.py")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Cannot find hubconf.py in {repo_dir}")
    spec = importlib.util.spec_from_file_location("hubconf", path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, repo_dir)
    try:
        spec.loader.exec_module(mod)  # the user's own local repository, loaded at their request
    finally:
        sys.path.remove(repo_dir)
    return mod


def list(github: str, force_reload: bool = False, skip_validation: bool = False, trust_repo: Any = None,
         verbose: bool = True, source: str = "github") -> Any:
    if source != "local":
        raise _no_network("list(source='github')")
    mod = _hubconf(github)
    return [n for n in dir(mod) if callable(getattr(mod, n)) and not n.startswith("_")]


def help(github: str, model: str, force_reload: bool = False, skip_validation: bool = False,
         trust_repo: Any = None, source: str = "github") -> str:
    if source != "local":
        raise _no_network("help(source='github')")
    return getattr(_hubconf(github), model).__doc__ or ""


def load(repo_or_dir: str, model: str, *args: Any, source: str = "github", trust_repo: Any = None,
         force_reload: bool = False, verbose: bool = True, skip_validation: bool = False, **kwargs: Any) -> Any:
    """Mirrors `torch.hub.load` for `source="local"`; GitHub sources need the network."""
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source != "local":
        raise _no_network("load(source='github')")
    return getattr(_hubconf(repo_or_dir), model)(*args, **kwargs)
