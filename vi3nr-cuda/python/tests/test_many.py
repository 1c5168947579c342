import os

import pytest

from conftest import require, write_png


@pytest.fixture(scope="module")
def ray_cluster():
    ray = require("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_fit_many_resumes_and_reports_failures(ray_cluster, tmp_path):
    import vi3nr

    src = tmp_path / "signals"
    src.mkdir()
    for k in range(4):
        write_png(src / f"img{k}.png", seed=k)
    opts = dict(hidden=[16, 16], steps=20, device="cpu")
    first = vi3nr.fit_many(str(src), tmp_path / "out", **opts)
    assert [r.status for r in first] == ["done"] * 4
    for r in first:
        assert os.path.exists(tmp_path / "out" / r.name / "model.vi3")
        assert r.bytes > 0 and r.psnr > 0
    assert not [n for n in os.listdir(tmp_path / "out") if n.startswith(".")]

    # A rerun skips what is done and fits what is missing; a bad input fails alone.
    import shutil

    shutil.rmtree(tmp_path / "out" / "img2")
    (src / "broken.png").write_bytes(b"not an image")
    second = vi3nr.fit_many(str(src), tmp_path / "out", **opts)
    status = {r.name: r.status for r in second}
    assert status == {"broken": "failed", "img0": "skipped", "img1": "skipped", "img2": "done", "img3": "skipped"}
    assert "broken" in second.table() and "error" in second.table()
