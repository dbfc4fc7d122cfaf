"""The SSD vehicle detector scores only its classes and finds exactly what the whole graph finds."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from lookout.models import packaged_ssd_graph
from tests.vision.conftest import asset, footage_frames
from vision.detect.ssd_mobilenet import TF_TO_COCO, SsdMobilenetDetector, pruned_net
from vision.types import CAR, PERSON, VEHICLE_CLASSES


def _frames() -> list[np.ndarray]:
    return [asset("bus.jpg"), *footage_frames("*/*parked*.mp4", 10)]  # + real streets with parked cars


def _rows(net, img: np.ndarray) -> np.ndarray:
    net.setInput(cv2.dnn.blobFromImage(img, size=(300, 300), swapRB=True))
    return net.forward().reshape(-1, 7)


@pytest.mark.parametrize("coco", [VEHICLE_CLASSES, (*VEHICLE_CLASSES, PERSON), (CAR,)])
def test_cut_down_heads_give_the_whole_graphs_detections(coco: tuple[int, ...]) -> None:
    graph = packaged_ssd_graph()
    whole = cv2.dnn.readNetFromTensorflow(str(graph.graph_pb), str(graph.config_pbtxt))
    tf_ids = [0, *sorted(t for t, c in TF_TO_COCO.items() if c in coco)]
    small = pruned_net(graph.graph_pb, graph.config_pbtxt, tf_ids)
    assert small is not None
    found = 0
    for img in _frames():
        every = _rows(whole, img)
        ref = every[np.isin(every[:, 1], tf_ids[1:]) & (every[:, 2] >= 0.05)]
        got = _rows(small, img)
        got = got[got[:, 2] >= 0.05]
        got[:, 1] = np.take(tf_ids, got[:, 1].astype(int))
        matched = np.zeros(len(got), bool)
        for r in ref:  # every detection of the whole graph is there, same class, score and corners
            d = np.abs(got[:, 1:] - r[1:]).max(axis=1)
            assert d.min() <= 1e-4, r
            matched[d.argmin()] = True
        # the only extras are boxes the whole graph's keep_top_k (100, over all 90 classes) pushed out
        extra = got[~matched]
        if len(extra):
            assert len(every) == 100 and extra[:, 2].max() <= every[:, 2].min() + 1e-4
        found += len(ref)
    assert found > 0


def test_the_detector_runs_the_cut_down_graph() -> None:
    graph = packaged_ssd_graph()
    det = SsdMobilenetDetector(graph.graph_pb, graph.config_pbtxt, conf=0.3)
    assert det.pruned
    out = det.detect([asset("bus.jpg")])[0]
    assert len(out) >= 1 and set(out.class_id.tolist()) <= set(VEHICLE_CLASSES)


def test_a_graph_of_another_shape_runs_whole(tmp_path: Path) -> None:
    graph = packaged_ssd_graph()
    other = tmp_path / "other.pbtxt"
    other.write_text(graph.config_pbtxt.read_text().replace("i: 91", "i: 90"))
    assert pruned_net(graph.graph_pb, other, [0, 3]) is None
