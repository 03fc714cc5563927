"""`torch.utils.tensorboard.SummaryWriter` for scalars and text, writing TensorBoard's own event files
(TFRecord framing with masked CRC-32C, Event/Summary messages encoded here), so `tensorboard --logdir` reads
them. No protobuf or tensorboard package is needed. Images, histograms, graphs, embeddings, audio and
video are not written: those methods raise NotImplementedError saying so.
"""
from __future__ import annotations

import os
import socket
import struct
import time
from typing import Any

__all__ = ["SummaryWriter"]

_CRC_TABLE: list = []


def _crc32c(data: bytes) -> int:
    if not _CRC_TABLE:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _CRC_TABLE.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _event(wall_time: float, step: int | None = None, file_version: str | None = None,
           summary: bytes | None = None) -> bytes:
    msg = _varint(1 << 3 | 1) + struct.pack("<d", wall_time)
    if step is not None:
        msg += _varint(2 << 3 | 0) + _varint(int(step))
    if file_version is not None:
        msg += _field_bytes(3, file_version.encode())
    if summary is not None:
        msg += _field_bytes(5, summary)
    return msg


def _scalar_summary(tag: str, value: float) -> bytes:
    v = _field_bytes(1, tag.encode()) + _varint(2 << 3 | 5) + struct.pack("<f", float(value))
    return _field_bytes(1, v)


def _text_summary(tag: str, text: str) -> bytes:
    # a string tensor with the text plugin's metadata, as TensorBoard's text dashboard expects
    tensor = _varint(1 << 3 | 0) + _varint(7) + _field_bytes(8, text.encode())  # dtype DT_STRING, string_val
    plugin = _field_bytes(1, b"text")                                           # PluginData.plugin_name
    metadata = _field_bytes(1, plugin)                                          # SummaryMetadata.plugin_data
    v = _field_bytes(1, (tag + "/text_summary").encode()) + _field_bytes(9, metadata) + _field_bytes(8, tensor)
    return _field_bytes(1, v)


def _number(x: Any) -> float:
    if hasattr(x, "item"):
        x = x.item()
    return float(x)


class SummaryWriter:
    """Mirrors `torch.utils.tensorboard.SummaryWriter` for `add_scalar`, `add_scalars`, `add_text`, `flush`,
    `close` (and as a context manager)."""

    def __init__(self, log_dir: str | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        if log_dir is None:
            stamp = time.strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = log_dir
        self._suffix = filename_suffix
        self._files: dict = {}
        self._file(log_dir)

    def get_logdir(self) -> str:
        return self.log_dir

    def _file(self, d: str) -> Any:
        f = self._files.get(d)
        if f is None:
            os.makedirs(d, exist_ok=True)
            name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{len(self._files)}"
            f = open(os.path.join(d, name + self._suffix), "wb")
            self._files[d] = f
            self._write(f, _event(time.time(), file_version="brain.Event:2"))
        return f

    @staticmethod
    def _write(f: Any, data: bytes) -> None:
        header = struct.pack("<Q", len(data))
        f.write(header + struct.pack("<I", _masked_crc(header)) + data + struct.pack("<I", _masked_crc(data)))

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        self._write(self._file(self.log_dir),
                    _event(walltime or time.time(), global_step, summary=_scalar_summary(tag, _number(scalar_value))))

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """One run per key, in `<log_dir>/<main_tag>_<key>`, as torch's writer lays them out."""
        for key, value in tag_scalar_dict.items():
            d = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            self._write(self._file(d), _event(walltime or time.time(), global_step,
                                              summary=_scalar_summary(main_tag, _number(value))))

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        self._write(self._file(self.log_dir),
                    _event(walltime or time.time(), global_step, summary=_text_summary(tag, text_string)))

    def flush(self) -> None:
        for f in self._files.values():
            f.flush()

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files = {}

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _unsupported(self, what: str) -> Any:
        def f(*args: Any, **kwargs: Any) -> None:
            raise NotImplementedError(f"SummaryWriter.{what} is not available in ndgrad (it writes scalars and "
                                      "text only)")
        return f

    def __getattr__(self, name: str) -> Any:
        if name.startswith("add_"):
            return self._unsupported(name)
        raise AttributeError(f"'SummaryWriter' object has no attribute {name!r}")
