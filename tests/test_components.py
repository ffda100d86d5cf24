"""gnnrec._components: the registry, the one resolver, Configurable."""

from __future__ import annotations

from typing import Any

import pytest
from torch import nn

from gnnrec._components import (
    Configurable,
    Registry,
    accepts,
    check_rate,
    init_params,
    reset_children,
    resolve,
)
from gnnrec.encoders import GAT, LightGCN, list_encoders, resolve_encoder
from gnnrec.encoders.base import ENCODERS
from gnnrec.heads import BoundedSigmoidHead, DotHead, MLPHead, list_heads, resolve_head
from gnnrec.heads.base import HEADS


class Widget(Configurable):
    _data_params = ("width",)

    def __init__(self, width: int | None = None, *, factor: float = 2.0) -> None:
        super().__init__()
        self.width = width
        self.factor = factor


class Gadget(Widget):
    pass


class Wrapped(Widget):
    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module


@pytest.fixture
def registry() -> Registry[Widget]:
    reg: Registry[Widget] = Registry("widget", Widget)
    reg.register()(Widget)
    reg.register("fancy_gadget")(Gadget)
    return reg


# --------------------------------------------------------------------------- Registry
def test_registry_names_and_wildcards(registry: Registry[Widget]) -> None:
    assert registry.names() == ["fancy_gadget", "widget"]
    assert registry.names("*GADGET") == ["fancy_gadget"]
    assert registry.names("x*") == []
    assert registry.name_of(Gadget) == "fancy_gadget" and registry.name_of(int) is None


def test_registry_get_ignores_case_dashes_and_underscores(registry: Registry[Widget]) -> None:
    assert registry.get("Fancy-Gadget") is Gadget
    assert registry.get("fancygadget") is Gadget


def test_unknown_name_lists_the_valid_names(registry: Registry[Widget]) -> None:
    with pytest.raises(ValueError, match=r"unknown widget 'gizmo'; valid names: fancy_gadget, widget"):
        registry.get("gizmo")


def test_register_refuses_a_taken_name_and_a_foreign_class(registry: Registry[Widget]) -> None:
    registry.register("widget")(Widget)  # the same class again is fine
    with pytest.raises(ValueError, match=r"'widget' is already registered to Widget"):
        registry.register("widget")(Gadget)
    with pytest.raises(TypeError, match=r"only Widget subclasses can be registered, got the class"):
        registry.register("module")(nn.Linear)  # type: ignore[arg-type]


def test_library_registries_list_their_classes() -> None:
    assert list_encoders() == ["gat", "gcmc", "gcn", "lightgcn", "sage"]
    assert list_encoders("*gcn") == ["gcn", "lightgcn"]
    assert list_heads("*o*") == ["bounded_sigmoid", "cosine", "dot"]
    assert ENCODERS.base.__name__ == "Encoder" and HEADS.base.__name__ == "Head"


# --------------------------------------------------------------------------- resolve
def test_resolve_name_class_instance(registry: Registry[Widget]) -> None:
    assert type(resolve("fancy-gadget", registry, caller="f")) is Gadget
    built = resolve(Gadget, registry, caller="f")
    assert type(built) is Gadget and built.factor == 2.0
    inst = Widget(factor=3.0)
    assert resolve(inst, registry, caller="f") is inst


def test_resolve_adapts_plain_modules_only_with_an_adapter(registry: Registry[Widget]) -> None:
    module = nn.Linear(2, 2)
    wrapped = resolve(module, registry, caller="f", adapter=Wrapped)
    assert isinstance(wrapped, Wrapped) and wrapped.module is module
    with pytest.raises(TypeError, match=r"^f: widget must be a registered name, a Widget class "
                                        r"or instance, got Linear$"):
        resolve(module, registry, caller="f")


@pytest.mark.parametrize("spec", [3, None, nn.Linear, object()])
def test_resolve_rejects_other_objects(registry: Registry[Widget], spec: Any) -> None:
    with pytest.raises(TypeError, match=r"f: widget must be a registered name, a Widget class or "
                                        r"instance, or an nn.Module, got"):
        resolve(spec, registry, caller="f", adapter=Wrapped)


def test_encoder_and_head_resolvers_share_the_rules() -> None:
    assert isinstance(resolve_encoder("LightGCN"), LightGCN)
    assert isinstance(resolve_head("Bounded-Sigmoid"), BoundedSigmoidHead)
    assert isinstance(resolve_encoder(GAT), GAT) and isinstance(resolve_head(MLPHead), MLPHead)
    enc, head = GAT(heads=2), DotHead(bias=True)
    assert resolve_encoder(enc) is enc and resolve_head(head) is head
    with pytest.raises(ValueError, match=r"unknown encoder 'gin'; valid names: gat, gcmc, gcn"):
        resolve_encoder("gin")
    with pytest.raises(ValueError, match=r"unknown head 'gated'; valid names: bounded_sigmoid"):
        resolve_head("gated")
    with pytest.raises(TypeError, match=r"resolve_encoder: encoder must be .*or an nn.Module, "
                                        r"got int"):
        resolve_encoder(3)  # type: ignore[arg-type]
    # a head has no adapter for plain modules
    with pytest.raises(TypeError, match=r"resolve_head: head must be a registered name, a Head "
                                        r"class or instance, got Linear"):
        resolve_head(nn.Linear(2, 2))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got the class DotHead"):
        resolve_encoder(DotHead)


# --------------------------------------------------------------------------- Configurable
def test_get_params_leaves_out_data_params() -> None:
    w = Widget(8, factor=3.0)
    assert w.get_params() == {"factor": 3.0}
    assert init_params(w) == {"width": 8, "factor": 3.0}
    assert "width=8, factor=3.0" in repr(w)


def test_set_params_checks_names_and_returns_self() -> None:
    w = Widget()
    assert w.set_params(factor=5.0) is w and w.factor == 5.0
    with pytest.raises(ValueError, match=r"invalid parameter 'scale' for Widget; valid: factor"):
        w.set_params(scale=1.0)
    with pytest.raises(ValueError, match=r"invalid parameter 'width'"):
        w.set_params(width=3)  # a data parameter is not a hyper-parameter


def test_rebuild_is_a_fresh_copy_with_new_data_params() -> None:
    w = Widget(4, factor=3.0)
    built = w.rebuild(width=16)
    assert built is not w and type(built) is Widget
    assert (built.width, built.factor) == (16, 3.0)
    assert w.width == 4  # the spec is untouched
    assert w.set_params(factor=1.0).rebuild().factor == 1.0


def test_rebuild_rejects_unknown_data_params() -> None:
    with pytest.raises(TypeError, match=r"Widget.rebuild: unexpected data parameters \['depth'\]"):
        Widget().rebuild(depth=3)


def test_rebuild_skips_a_data_param_the_constructor_does_not_take() -> None:
    class Old(Configurable):
        _data_params = ("width", "extra")

        def __init__(self, width: int | None = None) -> None:
            super().__init__()
            self.width = width

    assert Old().rebuild(width=3, extra=1.0).width == 3


# --------------------------------------------------------------------------- helpers
def test_accepts() -> None:
    assert accepts(Widget, "factor") and not accepts(Widget, "bias")

    class Kw(Widget):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)

    assert accepts(Kw, "anything")


@pytest.mark.parametrize("value", [0.0, 0.5, 0.999, 0])
def test_check_rate_accepts(value: float) -> None:
    assert check_rate(value, "dropout", caller="f") == float(value)


@pytest.mark.parametrize("value", [1.0, -0.1, float("nan"), "0.1", True, None])
def test_check_rate_rejects(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^f: dropout must be a finite number in \[0, 1\), got"):
        check_rate(value, "dropout", caller="f")


def test_reset_children_resets_sub_modules() -> None:
    calls: list[str] = []

    class Child(nn.Module):
        def reset_parameters(self) -> None:
            calls.append("child")

    class Parent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = Child(), Child()

        def reset_parameters(self) -> None:
            calls.append("parent")

    reset_children(Parent())
    assert calls == ["child", "child"]
