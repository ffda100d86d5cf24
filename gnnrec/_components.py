"""A tiny name → class registry with a resolver, shared by encoders and heads."""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from torch import nn

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """Maps lower-case names to classes.

    Parameters
    ----------
    kind : str
        What the registry holds (``"encoder"``, ``"head"``), used in errors.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Class decorator registering a class under ``name`` (default: lower-case class name)."""

        def wrap(cls: T) -> T:
            key = (name or cls.__name__).lower()
            if key in self._classes and self._classes[key] is not cls:
                raise ValueError(f"{self.kind} name {key!r} is already registered")
            self._classes[key] = cls
            return cls

        return wrap

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a shell-style wildcard, sorted."""
        return sorted(n for n in self._classes if fnmatch.fnmatch(n, pattern.lower()))

    def get(self, name: str) -> T:
        """The class registered under ``name``.

        Raises
        ------
        ValueError
            If the name is unknown; the message lists the valid names.
        """
        key = name.lower().replace("-", "").replace("_", "")
        for n, cls in self._classes.items():
            if n.replace("-", "").replace("_", "") == key:
                return cls
        raise ValueError(
            f"unknown {self.kind} {name!r}; valid names: {', '.join(self.names())}"
        )

    def name_of(self, cls: type) -> str | None:
        """The registered name of a class, if any."""
        for n, c in self._classes.items():
            if c is cls:
                return n
        return None


def init_params(obj: Any) -> dict[str, Any]:
    """The ``__init__`` keyword parameters of ``obj``, read from attributes of the same name."""
    sig = inspect.signature(type(obj).__init__)
    out = {}
    for p in sig.parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[p.name] = getattr(obj, p.name)
    return out


class Configurable(nn.Module):
    """Base for modules whose constructor arguments are their parameters.

    Subclasses store every ``__init__`` argument as an attribute of the same
    name. That gives scikit-learn style :meth:`get_params` /
    :meth:`set_params` (so ``Recommender(head=...).set_params(head__max_rating=10)``
    works) and lets the recommender build a fresh, correctly-sized copy at
    ``fit`` time with :meth:`rebuild`.
    """

    #: Constructor arguments filled in by the recommender from the data
    #: (sizes); they are not user hyper-parameters.
    _data_params: tuple[str, ...] = ()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (minus data-dependent sizes) as a dict."""
        return {k: v for k, v in init_params(self).items() if k not in self._data_params}

    def set_params(self, **params: Any) -> Configurable:
        """Set constructor parameters; they take effect at the next ``fit``."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid: {', '.join(sorted(valid))}"
                )
            setattr(self, name, value)
        return self

    def rebuild(self, **data_params: Any) -> Configurable:
        """A freshly initialised copy with the given data-dependent sizes."""
        params = init_params(self)
        params.update({k: v for k, v in data_params.items() if k in self._data_params})
        return type(self)(**params)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in init_params(self).items())


def _reset_children(module: nn.Module) -> None:
    """Call ``reset_parameters`` of every sub-module that has one."""
    for child in module.modules():
        reset = getattr(child, "reset_parameters", None)
        if child is not module and callable(reset):
            reset()
