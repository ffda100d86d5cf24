"""gnnrec._estimator: the scikit-learn parameter protocol and NotFittedError."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gnnrec
from gnnrec import BoundedSigmoidHead, DotHead, Interactions, LightGCN, NotFittedError, Recommender
from gnnrec._estimator import EstimatorParams

sklearn_base = pytest.importorskip("sklearn.base")


class Part:
    """A component with parameters, like a head instance."""

    def __init__(self, size: int = 1) -> None:
        self.size = size

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"size": self.size}

    def set_params(self, **params: Any) -> Part:
        for key, value in params.items():
            if key != "size":
                raise ValueError(f"Part has no {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        return f"Part(size={self.size})"


class Toy(EstimatorParams):
    def __init__(self, *, alpha: float = 1.0, name: str = "toy", part: Any = None,
                 flags: tuple[int, ...] = (1, 2)) -> None:
        self.alpha = alpha
        self.name = name
        self.part = part
        self.flags = flags

    def fit(self) -> Toy:
        self.coef_ = 2 * self.alpha
        return self

    def predict(self) -> float:
        self._check_fitted("coef_")
        return self.coef_


# --------------------------------------------------------------------------- get / set
def test_get_params_follows_the_constructor() -> None:
    toy = Toy(alpha=0.5, part=Part(3))
    assert toy.get_params(deep=False) == {"alpha": 0.5, "name": "toy", "part": toy.part,
                                          "flags": (1, 2)}
    assert toy.get_params() == {**toy.get_params(deep=False), "part__size": 3}
    assert Toy(part=Part).get_params() == Toy(part=Part).get_params(deep=False)  # a class: no nesting
    assert list(Recommender().get_params(deep=False)) == list(
        Recommender.__init__.__kwdefaults__)  # every keyword, in signature order


def test_set_params_sets_plain_and_nested_parameters() -> None:
    toy = Toy(part=Part(1))
    assert toy.set_params(alpha=2.0, part__size=7) is toy
    assert toy.alpha == 2.0 and toy.part.size == 7
    # a new component and its nested parameter in one call, in either order
    toy.set_params(part__size=9, part=Part(1))
    assert toy.part.size == 9
    assert toy.set_params() is toy


def test_set_params_errors() -> None:
    with pytest.raises(ValueError, match=r"^Toy.set_params: 'beta' is not a parameter; valid: alpha, name, part, flags$"):
        Toy().set_params(beta=1)
    with pytest.raises(ValueError, match=r"Toy.set_params: 'beta' is not a parameter"):
        Toy().set_params(beta__x=1)
    with pytest.raises(ValueError, match=r"cannot set part__size: part=None is not an instance with parameters; pass an instance first"):
        Toy().set_params(part__size=2)
    with pytest.raises(ValueError, match=r"cannot set part__size: part=<class .*Part'> is not an instance"):
        Toy(part=Part).set_params(part__size=2)
    with pytest.raises(ValueError, match=r"Part has no 'colour'"):
        Toy(part=Part()).set_params(part__colour=2)
    with pytest.raises(ValueError, match=r"Recommender.set_params: 'lr' is not a parameter; valid: encoder, head, task"):
        Recommender().set_params(lr=0.1)


def test_recommender_nested_head_and_encoder_parameters() -> None:
    model = Recommender(head=BoundedSigmoidHead(1, 5), encoder=LightGCN(num_layers=2))
    params = model.get_params()
    assert params["head__min_rating"] == 1 and params["encoder__num_layers"] == 2
    model.set_params(head__min_rating=0.5, encoder__num_layers=1)
    assert model.head.min_rating == 0.5 and model.encoder.num_layers == 1


# --------------------------------------------------------------------------- repr
def test_repr_shows_only_changed_parameters() -> None:
    assert repr(Toy()) == "Toy()"
    assert repr(Toy(alpha=1)) == "Toy()"  # equal to the default
    assert repr(Toy(alpha=2.5, part=Part(2))) == "Toy(alpha=2.5, part=Part(size=2))"
    assert repr(Toy(name="x", flags=(3,))) == "Toy(name='x', flags=(3,))"
    assert repr(Recommender()) == "Recommender()"
    assert repr(Recommender(learning_rate=0.03, epochs=100)) == "Recommender()"
    assert repr(Recommender(epochs=5, encoder="gcn")) == "Recommender(encoder='gcn', epochs=5)"
    shown = repr(Recommender(head=DotHead()))
    assert shown.startswith("Recommender(head=DotHead(") and shown.endswith(")")


# --------------------------------------------------------------------------- sklearn clone
def test_sklearn_clone_of_a_toy_and_of_recommenders(small_implicit: Interactions) -> None:
    toy = Toy(alpha=3.0, part=Part(4)).fit()
    twin = sklearn_base.clone(toy)
    assert type(twin) is Toy and twin.alpha == 3.0 and not hasattr(twin, "coef_")
    assert twin.part is not toy.part and twin.part.size == 4

    model = Recommender(encoder=LightGCN(num_layers=1), head=BoundedSigmoidHead(1, 5),
                        epochs=1, embedding_dim=4, device="cpu", random_state=0)
    model.fit(small_implicit)
    twin = sklearn_base.clone(model)
    assert type(twin) is Recommender and not hasattr(twin, "model_")
    assert twin.encoder is not model.encoder and twin.head is not model.head
    deep = model.get_params()
    got = twin.get_params()
    assert got.keys() == deep.keys()
    for key, value in deep.items():
        if key in ("encoder", "head"):
            assert type(got[key]) is type(value)
        else:
            assert got[key] == value, key
    assert repr(twin) == repr(model)
    # a clone fits like the original
    np.testing.assert_array_equal(twin.fit(small_implicit).predict([0, 1], [2, 3]),
                                  model.predict([0, 1], [2, 3]))


# --------------------------------------------------------------------------- not fitted
def test_not_fitted_error() -> None:
    assert issubclass(NotFittedError, RuntimeError) and issubclass(NotFittedError, AttributeError)
    assert gnnrec.NotFittedError is NotFittedError
    with pytest.raises(NotFittedError, match=r"^this Toy is not fitted yet; call fit\(train\) before using it$"):
        Toy().predict()
    assert Toy().fit().predict() == 2.0
    for kind in (RuntimeError, AttributeError):
        with pytest.raises(kind):
            Toy().predict()
    with pytest.raises(NotFittedError, match="this Recommender is not fitted yet"):
        Recommender().recommend(0)


# --------------------------------------------------------------------------- scikit-learn hooks
def test_sklearn_is_fitted_follows_the_public_fitted_attributes() -> None:
    toy = Toy()
    assert toy.__sklearn_is_fitted__() is False
    toy._cache = 1  # private attributes do not count
    assert toy.__sklearn_is_fitted__() is False
    assert toy.fit().__sklearn_is_fitted__() is True
    check_is_fitted = pytest.importorskip("sklearn.utils.validation").check_is_fitted
    with pytest.raises(AttributeError, match="This Toy instance is not fitted yet"):
        check_is_fitted(Toy())  # sklearn's NotFittedError is an AttributeError too
    check_is_fitted(Toy().fit())


def test_sklearn_tags_of_the_mixin() -> None:
    utils = pytest.importorskip("sklearn.utils")
    if not hasattr(utils, "get_tags"):
        pytest.skip("estimator tags are scikit-learn >= 1.6")
    tags = utils.get_tags(Toy())
    assert tags.requires_fit and not tags.target_tags.required
    assert tags.estimator_type is None and not tags.input_tags.two_d_array


def test_importing_gnnrec_does_not_import_sklearn() -> None:
    import subprocess
    import sys

    code = ("import sys, gnnrec, gnnrec.model_selection; "
            "gnnrec.Recommender().get_params(); gnnrec.Recommender().__sklearn_is_fitted__(); "
            "print(any(m == 'sklearn' or m.startswith('sklearn.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
