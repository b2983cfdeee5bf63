"""Registries that map a name in config to an implementation without importing it.

Snakemake reads the registries' names while it parses the workflow (wildcard
constraints, target lists); the implementations import torch, which takes seconds. So
an entry is written ``"module:attribute"`` and imported on first lookup.

Every registry has a key under the config's ``registry`` section (``attacks``,
``se_models``, ``transforms``, ``recognisers``); the entries listed there join the
built-in ones, so a new attack, enhancement model, defence or recogniser can live in a
module of the user's own, named in config alone (docs/extending.md). The workflow passes
that section to every job in the environment variable :data:`REGISTRY_ENV` (JSON), so a
workflow script sees the same registry as the Snakefile that scheduled it.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")

REGISTRY_ENV = "ADVSPEECH_REGISTRY"
"""Environment variable holding the config's ``registry`` section as JSON."""


@functools.cache
def _parse(blob: str) -> dict[str, dict[str, str]]:
    return json.loads(blob) if blob else {}


def configured_entries(config_key: str) -> dict[str, str]:
    """The entries of ``registry.<config_key>`` handed to this process (name ->
    ``"module:attribute"``); empty when none were configured."""
    return dict(_parse(os.environ.get(REGISTRY_ENV, "")).get(config_key, {}))


class LazyRegistry(Mapping[str, T], Generic[T]):
    """Name -> object, each given as ``"package.module:attribute"``: the built-in
    ``entries`` and those of config ``registry.<config_key>``, in that order."""

    def __init__(self, kind: str, entries: Mapping[str, str], config_key: str):
        self.kind = kind
        self.config_key = config_key
        self._builtin = dict(entries)

    @property
    def entries(self) -> dict[str, str]:
        """Name -> ``"module:attribute"``, built-in first, then the configured ones."""
        return {**self._builtin, **configured_entries(self.config_key)}

    def __getitem__(self, name: str) -> T:
        entries = self.entries
        if name not in entries:
            raise KeyError(
                f"unknown {self.kind} {name!r}; known: {sorted(entries)} "
                f"(add one under config key registry.{self.config_key})"
            )
        module, _, attribute = entries[name].partition(":")
        try:
            return getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as err:
            raise KeyError(
                f"{self.kind} {name!r}: cannot load {entries[name]!r} "
                f"(config key registry.{self.config_key}.{name}): {err}"
            ) from err

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def is_builtin(self, name: str) -> bool:
        """Whether ``name`` is one of the library's own entries (not configured)."""
        return name in self._builtin
