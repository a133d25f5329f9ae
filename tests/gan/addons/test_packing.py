"""Packing (PacGAN, issue #25): the critic of packs, its shapes, the packed
gradient penalty, a few iterations of every method it applies to, and the
refusals by name."""
import pytest
import torch

from otgan.gan import TrainConfig, Trainer
from otgan.gan.addons import ADDONS, PackFour, PackTwo, parse_method_spec
from otgan.gan.addons.packing import PackedCritic, pack, packed_shape
from otgan.gan.losses import gradient_penalty
from otgan.gan.methods import METHODS
from otgan.gan.nets import MLPCritic, build_nets

#: the methods with a critic that packing applies to
PACKABLE = [n for n, cls in METHODS.items()
            if cls.has_critic and not cls.owns_iteration and cls.pack_refusal is None]


def test_the_packable_methods_are_the_generic_critics():
    assert sorted(PACKABLE) == ["gan", "nsgan", "wgan", "wgan-gp"]


def test_pack_concatenates_consecutive_samples_of_one_source():
    x = torch.arange(12.0).reshape(6, 2)
    p = pack(x, 3, (2,))
    assert p.shape == (2, 6)
    assert torch.equal(p[0], torch.tensor([0.0, 1, 2, 3, 4, 5]))
    imgs = torch.randn(4, 1, 8, 8)
    pi = pack(imgs, 2, (1, 8, 8))
    assert pi.shape == (2, 2, 8, 8) and torch.equal(pi[1, 0], imgs[2, 0])
    assert packed_shape((3, 8, 8), 4) == (12, 8, 8)
    with pytest.raises(ValueError, match="multiple of 4, got 6"):
        pack(torch.zeros(6, 2), 4, (2,))
    with pytest.raises(ValueError, match="m must be an integer >= 1, got 0"):
        packed_shape((2,), 0)


@pytest.mark.parametrize("shape", [(2,), (1, 8, 8)])
@pytest.mark.parametrize("addon", [PackTwo, PackFour])
def test_the_trainer_builds_a_critic_of_packs(shape, addon):
    m = addon.m
    data = "ring" if shape == (2,) else "digits"
    cfg = TrainConfig(method="wgan-gp", data=data, batch=8, hidden=8, depth=1,
                      **{addon.name: True})
    tr = Trainer(cfg)
    assert isinstance(tr.D, PackedCritic) and tr.D.m == m
    x = torch.zeros((8,) + shape)
    assert tr.D(x).shape == (8 // m,)
    # the inner critic's input is m samples wide
    first = next(p for p in tr.D.inner.parameters() if p.dim() > 1)
    assert first.shape[1] == (2 * m if shape == (2,) else m)
    # one output layer, registered once
    assert tr.D.final is tr.D.inner.final
    assert not any(k.startswith("final.") for k in tr.D.state_dict())


def test_the_packed_penalty_takes_the_norm_over_each_pack():
    # D(pack) = <w, [x1; x2]>: the gradient of each output is w, norm |w|
    w = torch.tensor([3.0, 0.0, 0.0, 4.0])
    lin = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(w[None])
    lin.final = lin
    D = PackedCritic(_Wrap(lin), 2, (2,))
    y, x = torch.randn(6, 2), torch.randn(6, 2)
    pen = gradient_penalty(D, y, x, torch.rand(6))
    assert pen.item() == pytest.approx((5.0 - 1.0) ** 2)
    # per point (the unpacked rows) it would be different: |(3, 0)| and |(0, 4)|
    assert pen.item() != pytest.approx(((3 - 1) ** 2 + (4 - 1) ** 2) / 2)


class _Wrap(torch.nn.Module):
    def __init__(self, lin):
        super().__init__()
        self.lin = lin
        self.final = lin

    def forward(self, x):
        return self.lin(x).squeeze(1)


@pytest.mark.parametrize("method", PACKABLE)
def test_a_few_packed_iterations_train_every_method_with_a_generic_critic(method):
    cfg = TrainConfig(method=method, data="ring", iters=3, batch=16, hidden=8, depth=1,
                      device="cpu", pack4=True)
    tr = Trainer(cfg)
    before = [p.detach().clone() for p in tr.D.parameters()]
    logs = [tr.step() for _ in range(3)]
    assert all(torch.isfinite(torch.tensor(l["loss_g"])) for l in logs)
    assert any(not torch.equal(a, b) for a, b in zip(before, tr.D.parameters()))
    assert tr.sample(5).shape == (5, 2)


def test_packing_with_the_lens_and_jc():
    cfg = TrainConfig(method="nsgan", data="ring", iters=2, batch=8, hidden=8, depth=1,
                      device="cpu", pack2=True, lens=True, jc=True)
    tr = Trainer(cfg)
    logs = [tr.step() for _ in range(2)]
    assert "lens_dist" in logs[-1] and "jc_penalty" in logs[-1]


@pytest.mark.parametrize("method, match", [
    ("wgan-ts", "does not apply to method 'wgan-ts': its critic is regressed onto the "
                "exact LP's potentials of single points"),
    ("rfgan", "does not apply to method 'rfgan'"),
    ("ot", "needs a critic.*method 'ot' has none"),
    ("xicfg", "method 'xicfg' runs its own"),
])
def test_packing_is_refused_by_name_where_it_cannot_apply(method, match):
    for name in ("pack2", "pack4"):
        with pytest.raises(ValueError, match=match):
            TrainConfig(method=method, **{name: True})
        if method != "xicfg":  # xicfg: refused when the configuration is built
            with pytest.raises(ValueError, match=match):
                parse_method_spec(f"{method}+{name}")


def test_one_pack_size_and_a_batch_that_splits_into_packs():
    with pytest.raises(ValueError, match="one packing add-on at most"):
        TrainConfig(method="gan", pack2=True, pack4=True)
    with pytest.raises(ValueError, match="one packing add-on at most"):
        parse_method_spec("gan+pack2+pack4")
    with pytest.raises(ValueError, match="batch must be a multiple of the pack size 4"):
        TrainConfig(method="gan", batch=10, pack4=True)
    assert parse_method_spec("wgan-gp+pack4+jc") == ("wgan-gp", ("jc", "pack4"))
    assert set(ADDONS) >= {"pack2", "pack4"}


def test_the_inner_critic_is_the_default_critic_of_the_packed_shape():
    _, inner = build_nets(packed_shape((2,), 4), 2, 8, 1)
    assert isinstance(inner, MLPCritic)
    assert inner.body[0].in_features == 8
