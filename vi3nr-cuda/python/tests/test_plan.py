import pytest

import vi3nr
from conftest import run_json


@pytest.mark.parametrize(
    "act,widths,opts,flags",
    [
        ("gaussian:0.05", [2, 256, 256, 3], {}, []),
        ("tanh", [3, 64, 128, 1], {"bias": 0.2}, ["--bias", "0.2"]),
        ("sine:30", [2, 128, 128, 3], {"first_sigma": "default", "bias": "pytorch"}, ["--first-sigma", "default", "--bias", "pytorch"]),
        ("wavelet", [2, 32, 32, 1], {"sigma_p": 0.7}, ["--sigma-p", "0.7"]),
        ("relu", [2, 16, 1], {"input": (0.5, 0.25)}, ["--input-mean", "0.5", "--input-std", "0.5"]),
    ],
)
def test_plan_is_the_cli_plan(vi3nr_bin, act, widths, opts, flags):
    """vi3nr.plan and `vi3nr init --json` are the same Rust function: bit-identical values."""
    p = vi3nr.plan(act, widths, **opts)
    cli = run_json([vi3nr_bin, "init", "-a", act, "--layers", ",".join(map(str, widths)), "--json", *flags])
    assert p.raw == cli
    assert [l["fan_in"] for l in p.layers] == widths[:-1]


def test_plan_values_follow_the_method():
    p = vi3nr.plan("tanh", [2, 256, 256, 1])
    for l in p.layers:
        assert l["std"] == pytest.approx((l["gain2"] / l["fan_in"]) ** 0.5, rel=1e-12)
        assert l["bound"] == pytest.approx(3**0.5 * l["std"], rel=1e-12)


def test_solve_sigma_p():
    s = vi3nr.solve_sigma_p("gaussian:0.05")
    assert s["status"] == "root" and s["sigma_p"] > 0
    assert vi3nr.solve_sigma_p("relu")["status"] == "any"
    assert vi3nr.solve_sigma_p("sine:30")["status"] == "no_root"


def test_errors_carry_the_core_messages():
    with pytest.raises(ValueError, match="unknown activation"):
        vi3nr.plan("nope", [2, 3])
    with pytest.raises(ValueError, match="bias"):
        vi3nr.plan("tanh", [2, 3], bias="sometimes")
    with pytest.raises(ValueError):
        vi3nr.solve_sigma_p("tanh", ratio=-1.0)
    with pytest.raises(ValueError):
        vi3nr.plan("tanh", [2])
