"""Deferred imports for the first cell of a notebook (issue 17).

``pd = lazy("pandas")`` gives a stand-in whose first attribute access imports the module, so
``from nmfedu import data`` does not pay pandas' ~0.7 s import until a note table is read.
The stand-in is private to the module that holds it: ``sys.modules`` keeps only real modules,
so other libraries that look for ``sys.modules["pandas"]`` see pandas exactly when it has been
imported.

Notebooks: none directly; it keeps the first cell of 01, 02, 06–08 (``from nmfedu import data``
and the demos) lean.

Examples
--------
>>> from nmfedu._lazy import lazy
>>> json = lazy("json")
>>> json.dumps([1])
'[1]'
"""
from __future__ import annotations

import importlib

__all__ = ["lazy"]


class _Lazy:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def __getattr__(self, attr: str):
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)
            object.__setattr__(self, "_module", module)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy(name: str) -> _Lazy:
    """A stand-in for ``import name`` that imports it on first attribute access."""
    return _Lazy(name)
