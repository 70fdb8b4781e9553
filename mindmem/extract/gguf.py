"""What a local GGUF model is, read from its header with the `gguf` package (`mm model info`).

Only the header is read: the metadata keys and the tensor table. Large arrays (a 150k-token
vocabulary and its merges) are skipped over rather than decoded, which turns a read of
several seconds into milliseconds; tensor data is never touched.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gguf
import numpy as np

from mindmem.errors import BadInput, NotFound

# File types at or above Q4_K_M. Below it, small models' JSON (tool calls, extraction) degrades.
GOOD_FILE_TYPES = frozenset({"F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M"})
# Without general.file_type the average bits per weight decides; Q4_K_M averages about 4.8.
MIN_BITS_PER_WEIGHT = 4.5
# Arrays longer than this (vocabularies, merges) are skipped, not decoded.
_SKIP_ARRAYS_OVER = 64


@dataclass(frozen=True)
class ModelInfo:
    path: str
    size: int
    architecture: str
    name: str | None
    parameters: int
    file_type: str | None
    tensor_types: dict[str, int] = field(default_factory=dict)
    bits_per_weight: float = 0.0
    context_length: int | None = None
    vocab_size: int | None = None
    layers: int | None = None
    chat_template: str | None = None
    warning: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "architecture": self.architecture,
            "name": self.name,
            "parameters": self.parameters,
            "file_type": self.file_type,
            "tensor_types": self.tensor_types,
            "bits_per_weight": round(self.bits_per_weight, 2),
            "context_length": self.context_length,
            "vocab_size": self.vocab_size,
            "layers": self.layers,
            "chat_template": self.chat_template is not None,
            "warning": self.warning,
        }


def read_info(path: str | Path) -> ModelInfo:
    """Read a GGUF header. BadInput (exit 2) for a file that is not GGUF, is truncated or damaged."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"no model file at {path}")
    if not path.is_file():
        raise BadInput(f"{path} is not a file")
    size = path.stat().st_size
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise BadInput(f"{path.name} is not a GGUF model file (it starts with {magic!r}, not b'GGUF')")
    try:
        reader = _HeaderReader(path)
    except _Truncated as exc:
        raise BadInput(f"{path.name} is truncated: {exc} (an interrupted download or copy?)") from None
    except (ValueError, IndexError, KeyError, OverflowError, struct.error, UnicodeDecodeError):
        # A header that runs past the end of the file shows up as a short read somewhere inside.
        raise BadInput(
            f"{path.name} is truncated or damaged: its GGUF header cannot be read to the end ({size} bytes in the file)"
        ) from None
    return _info(reader, path, size)


def file_type_name(value: int) -> str:
    """`general.file_type` as people write it (15 -> Q4_K_M)."""
    try:
        member = gguf.LlamaFileType(value & ~gguf.LlamaFileType.GUESSED)
    except ValueError:
        return f"unknown ({value})"
    return member.name.removeprefix("MOSTLY_").removeprefix("ALL_")


def quantisation_warning(file_type: str | None, bits_per_weight: float) -> str | None:
    """A warning when the weights are below Q4_K_M, else None."""
    if file_type is not None:
        if file_type in GOOD_FILE_TYPES:
            return None
        return (
            f"{file_type} is below Q4_K_M: small models write broken JSON more often at lower bit widths; "
            "use Q4_K_M or better for extraction and tool calls"
        )
    if bits_per_weight < MIN_BITS_PER_WEIGHT:
        return (
            f"about {bits_per_weight:.1f} bits per weight (no general.file_type): below Q4_K_M, "
            "where small models write broken JSON more often; use Q4_K_M or better"
        )
    return None


class _Truncated(Exception):
    pass


class _HeaderReader(gguf.GGUFReader):
    """GGUFReader that steps over long arrays instead of decoding each element into a numpy view.

    The reader decodes every string of a vocabulary as its own array (seconds for 150k tokens);
    for long arrays we keep only their type and length, which is all `mm model info` needs.
    """

    def _get_field_parts(self, orig_offs: int, raw_type: int) -> tuple[int, list[Any], list[int], list[Any]]:
        if raw_type != gguf.GGUFValueType.ARRAY or self.byte_order != "I":
            return super()._get_field_parts(orig_offs, raw_type)
        raw_itype = self._get(orig_offs, np.uint32)
        alen = self._get(orig_offs + 4, np.uint64)
        count, itype = int(alen[0]), gguf.GGUFValueType(raw_itype[0])
        if count <= _SKIP_ARRAYS_OVER or itype == gguf.GGUFValueType.ARRAY:
            return super()._get_field_parts(orig_offs, raw_type)
        offs = orig_offs + 12
        if itype == gguf.GGUFValueType.STRING:
            buf = memoryview(self.data)
            for _ in range(count):
                (length,) = struct.unpack_from("<Q", buf, offs)
                offs += 8 + length
        else:
            offs += count * np.dtype(self.gguf_scalar_to_np[itype]).itemsize
        if offs > len(self.data):
            raise _Truncated(f"the metadata ends at byte {len(self.data)}, inside an array that needs {offs}")
        return offs - orig_offs, [raw_itype, alen], [], [gguf.GGUFValueType.ARRAY, itype]

    def _build_tensors(self, start_offs: int, fields: list[gguf.ReaderField]) -> None:
        # Check the tensor table against the file size first: numpy's reshape error says nothing useful.
        need = start_offs
        for tensor_field in fields:
            _name_len, _name, _n_dims, dims, raw_dtype, offset = tensor_field.parts
            block_size, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(raw_dtype[0])]
            n_bytes = int(np.prod(dims, dtype=np.uint64)) * type_size // block_size
            need = max(need, start_offs + int(offset[0]) + n_bytes)
        if need > len(self.data):
            raise _Truncated(f"its tensors need {need} bytes but the file has {len(self.data)}")
        super()._build_tensors(start_offs, fields)


def _scalar(reader: gguf.GGUFReader, key: str) -> Any:
    found = reader.get_field(key)
    if found is None or not found.types or found.types[0] == gguf.GGUFValueType.ARRAY:
        return None
    return found.contents()


def _array_len(reader: gguf.GGUFReader, key: str) -> int | None:
    found = reader.get_field(key)
    if found is None or not found.types or found.types[0] != gguf.GGUFValueType.ARRAY:
        return None
    # parts: key length, key, value type, item type, item count, items...
    return int(found.parts[4][0])


def _info(reader: gguf.GGUFReader, path: Path, size: int) -> ModelInfo:
    arch = _scalar(reader, gguf.Keys.General.ARCHITECTURE)
    if not isinstance(arch, str):
        raise BadInput(f"{path.name} has no general.architecture: not a model GGUF")
    raw_type = _scalar(reader, gguf.Keys.General.FILE_TYPE)
    file_type = file_type_name(raw_type) if isinstance(raw_type, int) else None
    params = sum(t.n_elements for t in reader.tensors)
    tensor_bytes = sum(t.n_bytes for t in reader.tensors)
    bpw = 8 * tensor_bytes / params if params else 0.0
    types = Counter(t.tensor_type.name for t in reader.tensors)
    template = _scalar(reader, gguf.Keys.Tokenizer.CHAT_TEMPLATE)
    vocab = _scalar(reader, gguf.Keys.LLM.VOCAB_SIZE.format(arch=arch)) or _array_len(reader, gguf.Keys.Tokenizer.LIST)
    return ModelInfo(
        path=str(path),
        size=size,
        architecture=arch,
        name=_scalar(reader, gguf.Keys.General.NAME),
        parameters=params,
        file_type=file_type,
        tensor_types=dict(types.most_common()),
        bits_per_weight=bpw,
        context_length=_scalar(reader, gguf.Keys.LLM.CONTEXT_LENGTH.format(arch=arch)),
        vocab_size=vocab,
        layers=_scalar(reader, gguf.Keys.LLM.BLOCK_COUNT.format(arch=arch)),
        chat_template=template if isinstance(template, str) else None,
        warning=quantisation_warning(file_type, bpw),
    )
