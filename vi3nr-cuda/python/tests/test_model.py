import json
import subprocess

import numpy as np
import pytest

import vi3nr
from conftest import require, write_png


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, vi3nr_bin):
    d = tmp_path_factory.mktemp("fit")
    write_png(d / "img.png")
    out = d / "out"
    subprocess.run(
        [vi3nr_bin, "fit", str(d / "img.png"), "--hidden", "16,16", "--steps", "20", "--device", "cpu", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return d, out


def test_load_round_trip_with_vi3nr_fit_output(fitted, tmp_path):
    _, out = fitted
    m = vi3nr.load(out / "model.vi3")
    assert m.widths == [2, 16, 16, 3] and m.activation == "sine:30" and m.format == "f32"
    assert [w.shape for w in m.weights] == [(16, 2), (16, 16), (3, 16)]
    original = (out / "model.vi3").read_bytes()
    assert vi3nr.save(m) == original
    vi3nr.save(m, tmp_path / "copy.vi3")
    assert (tmp_path / "copy.vi3").read_bytes() == original


def test_quantised_models_dequantise(fitted):
    _, out = fitted
    m = vi3nr.load(out / "model.vi3")
    q = vi3nr.load(vi3nr.save(m, precision="i8"))
    assert q.format == "i8"
    for a, b in zip(m.weights, q.weights):
        assert np.abs(a - b).max() <= np.abs(a).max() / 100


def test_raw_integers_and_scales_give_the_dequantised_weights(fitted):
    _, out = fitted
    m = vi3nr.load(out / "model.vi3")
    q = vi3nr.load(vi3nr.save(m, precision="i8"), raw=True)
    for r, w in zip(q.raw, q.weights):
        assert r["kind"] == "i8" and r["w"].dtype == np.int8
        np.testing.assert_allclose(r["w"] * r["scales"][:, None], w, rtol=1e-6, atol=1e-7)
    f = vi3nr.load(out / "model.vi3", raw=True)
    assert f.raw[0]["kind"] == "f32" and np.array_equal(f.raw[0]["w"], m.weights[0])


def test_to_torch_matches_the_weights(fitted):
    torch = require("torch")
    _, out = fitted
    m = vi3nr.load(out / "model.vi3")
    net = m.to_torch()
    assert torch.equal(net[0].weight, torch.from_numpy(m.weights[0]))
    assert net(torch.zeros(1, 2)).shape == (1, 3)


def test_load_errors():
    with pytest.raises(ValueError):
        vi3nr.load(b"not a model")
    with pytest.raises(OSError):
        vi3nr.load("/nonexistent/model.vi3")


def test_fit_path_and_array(tmp_path):
    img = write_png(tmp_path / "a.png")
    r = vi3nr.fit(tmp_path / "a.png", hidden=[16, 16], steps=20, device="cpu")
    s = vi3nr.fit(img, hidden=[16, 16], steps=20, device="cpu")
    # The same pixels: the same fit, bit for bit.
    assert r.model_bytes == s.model_bytes
    assert r.metrics["model_bytes"] == len(r.model_bytes)
    assert np.isfinite(r.psnr)
    assert vi3nr.load(r.model_bytes).widths == [2, 16, 16, 3]


def test_fit_errors(tmp_path):
    with pytest.raises(ValueError, match="activation"):
        vi3nr.fit(np.zeros((4, 4, 3)), activation="nope")
    with pytest.raises(TypeError, match="unknown fit options"):
        vi3nr.fit(np.zeros((4, 4, 3)), stepz=3)
    with pytest.raises(OSError):
        vi3nr.fit(tmp_path / "missing.png", steps=1)
    with pytest.raises(ValueError, match="clip-grad"):
        vi3nr.fit(np.zeros((4, 4, 3)), clip_grad=0.0, steps=1)
    with pytest.raises(ValueError, match="loss"):
        vi3nr.fit(np.zeros((4, 4, 3)), loss="huber", steps=1)


def test_fit_with_clipping_and_a_loss(tmp_path):
    img = write_png(tmp_path / "a.png")
    o = dict(sigma_p="auto", steps=20, device="cpu", seed=3)
    plain = vi3nr.fit(img, **o)
    clipped = vi3nr.fit(img, clip_grad=1e-3, **o)
    assert clipped.metrics["config"]["clip_grad"] == pytest.approx(1e-3)
    assert clipped.psnr != plain.psnr
    l1 = vi3nr.fit(img, loss="clamped-l1:0.5", **o)
    assert l1.metrics["config"]["loss"] != plain.metrics["config"]["loss"]


def test_fit_to_a_byte_budget(tmp_path):
    img = write_png(tmp_path / "a.png")
    r = vi3nr.fit(img, budget=1500, sigma_p="auto", steps=30, device="cpu")
    assert len(r.model_bytes) <= 1500
    assert r.metrics["budget"]["budget_bytes"] == 1500
    assert r.metrics["config"]["precision"] in ("i8", "q15")
    assert r.metrics["config"]["qat"]["format"] == r.metrics["config"]["precision"]
    with pytest.raises(RuntimeError, match="too small"):
        vi3nr.fit(img, budget=100, steps=30, device="cpu")
    with pytest.raises(ValueError, match="qat"):
        vi3nr.fit(img, qat="sometimes", steps=1, device="cpu")
