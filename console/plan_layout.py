"""The Plan view's side panel: the Patrol tab (drones, draw buttons, patrol form, files), the Waypoints
table, the summary and the fly box.

A mixin of ``console.plan_view.PlanView``: it builds widgets and connects them to the view's slots;
the view keeps all behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.plan_panel import DroneList, PatrolForm, spin

if TYPE_CHECKING:
    from console.plan_editor import PlanEditor
    from console.plan_fly import FlyBox
    from console.plan_model import WaypointModel
    from console.plan_summary import PlanSummaryPanel

DRAW_BUTTONS = (("Key area", "area"), ("Hole", "hole"), ("Lake", "lake"), ("River", "river"), ("Route", "route"),
                ("Point", "point"))  # fmt: skip
FENCE_BUTTONS = (("Geofence", "fence"), ("No-fly zone", "nofly"), ("Rally point", "rally"))


class PlanLayout:
    editor: PlanEditor
    model: WaypointModel
    summary: PlanSummaryPanel
    fly: FlyBox

    if TYPE_CHECKING:  # the view's

        def delete_waypoint(self, index: int) -> None: ...
        def schedule(self) -> None: ...
        def clear(self) -> None: ...
        def _drones_changed(self) -> None: ...
        def _toggle_draw(self, role: str) -> None: ...
        def _import_dialog(self) -> None: ...
        def _open_dialog(self) -> None: ...
        def _save_dialog(self) -> None: ...

    def _side_panel(self) -> QWidget:
        tabs = QTabWidget()
        tabs.addTab(self._plan_tab(), "Patrol")
        table_box = QWidget()
        tl = QVBoxLayout(table_box)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self.editor.select_waypoint(cur.row()))
        tl.addWidget(self.table)
        row = QHBoxLayout()
        delete = QPushButton("Delete item")
        delete.clicked.connect(lambda: self.delete_waypoint(self.table.currentIndex().row()))
        row.addWidget(delete)
        row.addStretch(1)
        tl.addLayout(row)
        tabs.addTab(table_box, "Waypoints")
        self.tabs = tabs

        panel = QWidget()
        v = QVBoxLayout(panel)
        v.setContentsMargins(4, 4, 4, 4)
        v.addWidget(tabs, 1)
        v.addWidget(self.summary)
        v.addWidget(self.fly)
        panel.setMinimumWidth(400)
        return panel

    def _plan_tab(self) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        self.drone_list = DroneList()
        self.drone_list.changed.connect(self._drones_changed)
        v.addWidget(self.drone_list)

        places = QGroupBox("Places: click on the map, double-click or Enter to finish")
        grid = QGridLayout(places)
        self.draw_buttons: dict[str, QPushButton] = {}
        for n, (text, role) in enumerate((*DRAW_BUTTONS, *FENCE_BUTTONS)):
            b = QPushButton(text)
            b.setCheckable(True)
            b.clicked.connect(lambda _c=False, r=role: self._toggle_draw(r))
            self.draw_buttons[role] = b
            grid.addWidget(b, n // 3, n % 3)
        self.river_width = spin(1, 500, 20, " m wide")
        self.river_width.valueChanged.connect(lambda w: setattr(self.editor, "river_width_m", w))
        grid.addWidget(self.river_width, 3, 0)
        for n, (text, slot) in enumerate((("Import places…", self._import_dialog), ("Clear all", self.clear))):
            b = QPushButton(text)
            b.clicked.connect(slot)
            grid.addWidget(b, 3, n + 1)
        v.addWidget(places)

        self.patrol = PatrolForm()
        self.patrol.changed.connect(self.schedule)
        p = self.patrol
        self.kind, self.alt, self.standoff = p.kind, p.alt, p.standoff
        v.addWidget(self.patrol)

        files = QHBoxLayout()
        for text, slot in (("Open plan…", self._open_dialog), ("Save plan…", self._save_dialog)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            files.addWidget(b)
        v.addLayout(files)
        v.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(box)
        scroll.setWidgetResizable(True)
        return scroll
