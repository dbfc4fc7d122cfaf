"""Plan files for the plan view: open and save plans (.plan, .waypoints, GeoJSON, KML), import places.

A mixin of ``console.plan_view.PlanView`` (it works on the view's editor, map and mission). Every
file error is one red line in the view and changes nothing (``missions`` reads the whole file
before anything is shown; writes are atomic).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QWidget

from console.errors import ConsoleError
from console.plan_shapes import shapes_from_fence, shapes_from_places
from missions.fence import fence_shapes

if TYPE_CHECKING:
    from console.mapview import MapView
    from console.plan_editor import PlanEditor
    from missions.types import Mission, MissionItem, Plan


class PlanFiles:
    editor: PlanEditor
    map: MapView
    mission: Mission | None
    _coverage: float | None
    _fence_circles: tuple[MissionItem, ...]

    if TYPE_CHECKING:  # the view's

        def current_plan(self) -> Plan | None: ...
        def revalidate(self) -> None: ...
        def _shapes_changed(self) -> None: ...
        def _say(self, text: str) -> None: ...
        def _fail(self, text: str) -> None: ...

    def save_plan(self, path: Path) -> None:
        """Write the plan (mission, fence, rally) by suffix: .plan, .waypoints, .geojson, .kml."""
        from missions import save_plan

        plan = self.current_plan()
        if plan is None:
            raise ConsoleError("nothing to save yet: draw a place and choose a patrol first")
        save_plan(plan, path)
        self._say(f"saved {path.name} ({len(plan.mission.items)} items, {len(plan.fence)} fence, "
                  f"{len(plan.rally)} rally)")  # fmt: skip

    def open_plan(self, path: Path) -> None:
        """Show a plan file as it is: mission (editable), fence and rally (as shapes). Places are cleared."""
        from missions import read_plan

        loaded = read_plan(path)
        for w in loaded.warnings:
            self._say(f"{path.name}: {w}")
        plan = loaded.plan
        shapes, circles = shapes_from_fence(plan.fence, plan.rally)
        self.editor.set_shapes(shapes)
        self._fence_circles = circles
        rings = fence_shapes(tuple(it for it in circles if it.command in (5003, 5004)))[1]
        self.editor.set_circles([(c.lat_deg, c.lon_deg, c.radius_m, c.inclusion) for c in rings])
        self.mission, self._coverage = plan.mission, None
        first = next((it for it in plan.mission.items if it.lat_deg or it.lon_deg), None)
        if first is not None:
            self.map.center_on(first.lat_deg, first.lon_deg)
        self.revalidate()

    def import_places(self, path: Path) -> None:
        from missions import load_places

        places = load_places(path)
        self.editor.set_shapes([*self.editor.shapes, *shapes_from_places(places)])
        c = places[0].geometry.centroid
        self.map.center_on(c.y, c.x)
        self._shapes_changed()

    def _open_dialog(self) -> None:
        kinds = "Plans (*.plan *.waypoints *.txt *.geojson *.json *.kml)"
        path, _ = QFileDialog.getOpenFileName(self._widget(), "Open plan", "", kinds)
        if path:
            self._guard(lambda: self.open_plan(Path(path)))

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._widget(), "Import places", "", "Places (*.geojson *.json *.kml)")
        if path:
            self._guard(lambda: self.import_places(Path(path)))

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._widget(), "Save plan", "patrol.plan", "Plans (*.plan *.waypoints "
                                                                                "*.geojson *.kml)")  # fmt: skip
        if path:
            self._guard(lambda: self.save_plan(Path(path)))

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:
            self._fail(str(exc))

    def _widget(self) -> QWidget | None:
        return self if isinstance(self, QWidget) else None
