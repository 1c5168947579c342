import pytest

import vi3nr
from conftest import require


def test_init_statistics_match_the_plan():
    torch = require("torch")
    import vi3nr.torch as vt

    nn = torch.nn
    net = nn.Sequential(nn.Linear(2, 512), vt.Activation("tanh"), nn.Linear(512, 512), vt.Activation("tanh"), nn.Linear(512, 3))
    p = vt.init_(net, activation="tanh", bias="pytorch", generator=torch.Generator().manual_seed(1))
    for layer, lp in zip([net[0], net[2], net[4]], p.layers):
        w = layer.weight.double()
        assert w.abs().max().item() <= lp["bound"]
        n = w.numel()
        # The std of n uniform draws is within a few standard errors of the plan's.
        assert w.std().item() == pytest.approx(lp["std"], rel=6 / n**0.5 + 1e-3)
        assert layer.bias.abs().max().item() <= lp["bias"]["bound"]


def test_init_uses_the_callers_generator():
    torch = require("torch")
    import vi3nr.torch as vt

    def make(seed):
        layers = [torch.nn.Linear(2, 32), torch.nn.Linear(32, 1)]
        vt.init_(layers, activation="sine:30", generator=torch.Generator().manual_seed(seed))
        return torch.cat([l.weight.flatten() for l in layers])

    assert torch.equal(make(3), make(3))
    assert not torch.equal(make(3), make(4))


def test_init_rejects_unchained_layers():
    torch = require("torch")
    import vi3nr.torch as vt

    with pytest.raises(ValueError, match="do not chain"):
        vt.init_([torch.nn.Linear(2, 8), torch.nn.Linear(9, 1)], activation="tanh")
