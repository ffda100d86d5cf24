"""Named, configurable model components: the registry, the resolver and :class:`Configurable`.

Encoders and heads are both *components*: an :class:`torch.nn.Module` whose
constructor arguments are its hyper-parameters (plus a few sizes that only the
training data knows), registered under a name. This module holds what they
share:

* :class:`Registry`, a name → class map (``gnnrec.encoders.base.ENCODERS``,
  ``gnnrec.heads.base.HEADS``);
* :func:`resolve`, the one function that turns what a user passes (a name, a
  class or an instance) into an unsized component;
* :class:`Configurable`, the base giving ``get_params``/``set_params`` and
  :meth:`~Configurable.rebuild`, the fresh, sized copy ``fit`` trains.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from torch import nn

from gnnrec._validation import argument_error, check_float

__all__ = [
    "Configurable",
    "Registry",
    "accepts",
    "check_rate",
    "init_params",
    "reset_children",
    "resolve",
]

C = TypeVar("C", bound="Configurable")


class Registry(Generic[C]):
    """Maps lower-case names to subclasses of one base class.

    Parameters
    ----------
    kind : str
        What the registry holds (``"encoder"``, ``"head"``); used in errors.
    base : type
        The class every registered class must subclass.

    Examples
    --------
    >>> reg = Registry("widget", Configurable)
    >>> @reg.register()
    ... class Sprocket(Configurable):
    ...     pass
    >>> reg.names(), reg.get("SPROCKET") is Sprocket
    (['sprocket'], True)
    """

    def __init__(self, kind: str, base: type[C]) -> None:
        self.kind = kind
        self.base = base
        self._classes: dict[str, type[C]] = {}

    def register(self, name: str | None = None) -> Callable[[type[C]], type[C]]:
        """Class decorator registering a class under ``name`` (default: lower-case class name).

        Raises
        ------
        TypeError
            If the decorated object is not a subclass of the registry's base.
        ValueError
            If another class already holds the name.
        """

        def wrap(cls: type[C]) -> type[C]:
            if not (inspect.isclass(cls) and issubclass(cls, self.base)):
                raise TypeError(
                    f"register_{self.kind}: only {self.base.__name__} subclasses can be "
                    f"registered, got {_describe(cls)}"
                )
            key = (name or cls.__name__).lower()
            if key in self._classes and self._classes[key] is not cls:
                raise ValueError(
                    f"register_{self.kind}: {self.kind} name {key!r} is already registered "
                    f"to {self._classes[key].__name__}"
                )
            self._classes[key] = cls
            return cls

        return wrap

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a shell-style wildcard (``"*gcn"``), sorted."""
        return sorted(n for n in self._classes if fnmatch.fnmatch(n, pattern.lower()))

    def get(self, name: str) -> type[C]:
        """The class registered under ``name``.

        Case, ``-`` and ``_`` are ignored: ``"Bounded-Sigmoid"`` finds
        ``"bounded_sigmoid"``.

        Raises
        ------
        ValueError
            If the name is unknown; the message lists the valid names.
        """
        key = name.lower().replace("-", "").replace("_", "")
        for n, cls in self._classes.items():
            if n.replace("-", "").replace("_", "") == key:
                return cls
        raise ValueError(f"unknown {self.kind} {name!r}; valid names: {', '.join(self.names())}")

    def name_of(self, cls: type) -> str | None:
        """The registered name of a class, if any."""
        for n, c in self._classes.items():
            if c is cls:
                return n
        return None


def _describe(value: Any) -> str:
    if inspect.isclass(value):
        return f"the class {value.__name__}"
    return type(value).__name__


def resolve(
    spec: Any,
    registry: Registry[C],
    *,
    caller: str,
    adapter: Callable[[nn.Module], C] | None = None,
) -> C:
    """Turn a name, a class or an instance into an (unsized) component.

    ============================  ==========================================
    ``spec``                      result
    ============================  ==========================================
    a registered name             ``registry.get(spec)()``
    a subclass of the base        ``spec()``
    an instance of the base       ``spec`` itself
    any other ``nn.Module``       ``adapter(spec)``, when there is an adapter
    ============================  ==========================================

    Parameters
    ----------
    spec : str, type or nn.Module
        What the user passed.
    registry : Registry
        Where names are looked up; its ``base`` is the component class.
    caller : str
        The public function, for error messages.
    adapter : callable, optional
        Wraps a plain :class:`torch.nn.Module` into a component (encoders
        have one; heads do not).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        For anything else.
    """
    base = registry.base
    if isinstance(spec, str):
        return registry.get(spec)()
    if inspect.isclass(spec) and issubclass(spec, base):
        return spec()
    if isinstance(spec, base):
        return spec
    if adapter is not None and isinstance(spec, nn.Module):
        return adapter(spec)
    other = ", or an nn.Module" if adapter is not None else ""
    raise TypeError(
        f"{caller}: {registry.kind} must be a registered name, a {base.__name__} class or "
        f"instance{other}, got {_describe(spec)}"
    )


def init_params(obj: Any) -> dict[str, Any]:
    """The ``__init__`` keyword parameters of ``obj``, read from attributes of the same name."""
    sig = inspect.signature(type(obj).__init__)
    out = {}
    for p in sig.parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[p.name] = getattr(obj, p.name)
    return out


def accepts(cls: type, name: str) -> bool:
    """Whether the constructor of ``cls`` takes a keyword argument ``name``."""
    params = inspect.signature(cls).parameters
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def check_rate(value: Any, name: str, *, caller: str) -> float:
    """Check a dropout-like probability in ``[0, 1)`` and return it as ``float``.

    Examples
    --------
    >>> check_rate(1.0, "dropout", caller="GAT")
    Traceback (most recent call last):
    ValueError: GAT: dropout must be a finite number in [0, 1), got 1.0
    """
    constraint = "a finite number in [0, 1)"
    try:
        out = float(check_float(value, name, caller=caller, minimum=0.0, maximum=1.0))
    except ValueError:
        raise argument_error(caller, name, constraint, value) from None
    if out == 1.0:
        raise argument_error(caller, name, constraint, value)
    return out


class Configurable(nn.Module):
    """Base of components whose constructor arguments are their parameters.

    Subclasses store every ``__init__`` argument as an attribute of the same
    name. That gives scikit-learn style :meth:`get_params` /
    :meth:`set_params` (so ``Recommender(head=...).set_params(head__max_rating=10)``
    works) and lets ``fit`` build a fresh, correctly sized copy with
    :meth:`rebuild`.

    Examples
    --------
    >>> class Scale(Configurable):
    ...     _data_params = ("width",)
    ...     def __init__(self, width=None, *, factor=2.0):
    ...         super().__init__()
    ...         self.width, self.factor = width, factor
    >>> spec = Scale(factor=3.0)
    >>> spec.get_params()
    {'factor': 3.0}
    >>> built = spec.set_params(factor=4.0).rebuild(width=8)
    >>> built.width, built.factor, built is spec
    (8, 4.0, False)
    """

    #: Constructor arguments filled in from the training data (sizes, the
    #: rating range); they are not user hyper-parameters.
    _data_params: tuple[str, ...] = ()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (minus the data-dependent ones) as a dict."""
        return {k: v for k, v in init_params(self).items() if k not in self._data_params}

    def set_params(self, **params: Any) -> Configurable:
        """Set constructor parameters; they take effect at the next :meth:`rebuild`.

        Raises
        ------
        ValueError
            For a name that is not a parameter (the message lists the valid ones).
        """
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid: {', '.join(sorted(valid))}"
                )
            setattr(self, name, value)
        return self

    def _constructor_params(self, **data_params: Any) -> dict[str, Any]:
        """The current parameters with the data parameters replaced.

        A data parameter that the subclass's constructor does not take (a
        custom head written before ``rating_range`` existed) is left out.
        """
        unknown = sorted(set(data_params) - set(self._data_params))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.rebuild: unexpected data parameters {unknown}; "
                f"expected some of {list(self._data_params)}"
            )
        params = init_params(self)
        params.update({k: v for k, v in data_params.items() if k in params})
        return params

    def rebuild(self, **data_params: Any) -> Configurable:
        """A freshly initialised copy with the given data parameters.

        Parameters
        ----------
        **data_params
            Values for the names in ``_data_params``.
        """
        return type(self)(**self._constructor_params(**data_params))

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in init_params(self).items())


def reset_children(module: nn.Module) -> None:
    """Call ``reset_parameters`` of every sub-module (not ``module`` itself) that has one."""
    for child in module.modules():
        reset = getattr(child, "reset_parameters", None)
        if child is not module and callable(reset):
            reset()
