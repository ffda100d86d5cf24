"""scikit-learn's parameter protocol, shared by every gnnrec estimator.

Parameters are discovered from the signature of ``__init__`` (keyword-only,
no ``**kwargs``), which is what makes :meth:`get_params`, :meth:`set_params`
(also nested, ``head__max_rating``) and :func:`sklearn.base.clone` work.
``__sklearn_is_fitted__`` and ``__sklearn_tags__`` make
:func:`sklearn.utils.validation.check_is_fitted` and the model-selection tools
(``GridSearchCV``, see :mod:`gnnrec.model_selection`) work; scikit-learn is
imported only inside ``__sklearn_tags__``, which only scikit-learn calls.
"""

from __future__ import annotations

import inspect
from typing import Any

from typing_extensions import Self

__all__ = ["EstimatorParams", "NotFittedError"]


class NotFittedError(RuntimeError, AttributeError):
    """Raised when a method that needs a fitted model is called before ``fit``."""


class EstimatorParams:
    """Mixin: ``get_params``, ``set_params``, a short ``repr``, the fitted check and the
    scikit-learn hooks ``__sklearn_is_fitted__`` and ``__sklearn_tags__``."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters; with ``deep``, also ``<name>__<param>`` of component instances."""
        params = {name: getattr(self, name) for name in self._param_names()}
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not inspect.isclass(value):
                    params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self, **params: Any) -> Self:
        """Set parameters, including nested ones such as ``head__max_rating``.

        Returns
        -------
        self
        """
        valid = self._param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__}.set_params: {name!r} is not a parameter; "
                    f"valid: {', '.join(valid)}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            target = getattr(self, name)
            if not hasattr(target, "set_params") or inspect.isclass(target):
                raise ValueError(
                    f"{type(self).__name__}.set_params: cannot set {name}__{next(iter(sub_params))}: "
                    f"{name}={target!r} is not an instance with parameters; pass an instance first"
                )
            target.set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        changed = [
            f"{k}={v!r}"
            for k, v in self.get_params(deep=False).items()
            if v is not defaults[k] and not (isinstance(v, (int, float, str)) and v == defaults[k])
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ------------------------------------------------------------------ scikit-learn hooks
    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` has run: a public attribute ending in ``_`` exists.

        Used by :func:`sklearn.utils.validation.check_is_fitted`.
        """
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def __sklearn_tags__(self) -> Any:
        """The estimator tags of scikit-learn >= 1.6 (imported only when asked for).

        No target (``y`` is not used), no 2-D array input (the data is an
        :class:`~gnnrec.Interactions`), and a fit is needed before use.
        """
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    input_tags=InputTags(two_d_array=False), requires_fit=True)

    def _check_fitted(self, attribute: str = "model_") -> None:
        if not hasattr(self, attribute):
            name = type(self).__name__
            raise NotFittedError(
                f"this {name} is not fitted yet; call fit(train) before using it"
            )
