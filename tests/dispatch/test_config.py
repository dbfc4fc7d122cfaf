"""``[dispatch]`` (+ sinks), ``[units.*]``, ``[response_areas.*]``: good configs, one-line errors at the key."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise
from typing import Any

import pytest

from lookout.config import dump_toml, parse_config
from lookout.errors import ConfigError

AREA = 'geometry = { type = "Polygon", coordinates = [[[4.89, 52.37], [4.9, 52.37], [4.9, 52.38], [4.89, 52.37]]] }'
GOOD = f"""
[dispatch]
detour_factor = 1.3
speeds_m_s = {{ foot = 1.4 }}
[dispatch.sinks.desk]
type = "webhook"
url = "https://desk.example/h"
secret = "env:DESK_SECRET"
[dispatch.sinks.files]
type = "cap"
dir = "cap-out"  # relative: the config is only validated, nothing is written
[dispatch.sinks.bus]
type = "mqtt"
url = "mqtt://127.0.0.1:1883"
[units.a1]
callsign = "ALPHA 1"
kind = "motorcycle"
lat_deg = 52.37
lon_deg = 4.89
[units.f1]
callsign = "FOOT 1"
kind = "foot"
[response_areas.station]
target_min = 1
{AREA}
"""


@pytest.mark.parametrize(
    ("text", "expectation", "message"),
    [
        (GOOD, does_not_raise(), None),
        ('[dispatch.sinks.d]\ntype = "webhook"\nurl = "ftp://x"\n', pytest.raises(ConfigError),
         r"lookout.toml:3 dispatch.sinks.d.url: a webhook url must start with https:// or http://"),
        ('[dispatch.sinks.d]\ntype = "webhook"\n', pytest.raises(ConfigError),
         r"lookout.toml:1 dispatch.sinks.d: type 'webhook' needs url = ..."),
        ('[dispatch.sinks.d]\ntype = "cap"\n', pytest.raises(ConfigError), r"needs url = ... and/or dir = ..."),
        ('[dispatch.sinks.d]\ntype = "mqtt"\nurl = "mqtt://h:1883"\ndir = "x"\n', pytest.raises(ConfigError),
         r"lookout.toml:4 dispatch.sinks.d.dir: not used by type 'mqtt' \(it is for cap\); remove it"),
        ('[dispatch.sinks.d]\ntype = "mqtt"\nurl = "http://h"\n', pytest.raises(ConfigError),
         r"dispatch.sinks.d.url: an mqtt url looks like mqtt://host:1883"),
        ('[dispatch.sinks.d]\ntype = "smtp"\n', pytest.raises(ConfigError),
         r"lookout.toml:2 dispatch.sinks.d.type: input should be 'webhook', 'cap' or 'mqtt'"),
        ('[dispatch.sinks.d]\ntype = "webhook"\nurl = "https://x"\nsecret = "env:bad-name"\n',
         pytest.raises(ConfigError), r"dispatch.sinks.d.secret: write env:VARIABLE_NAME"),
        ('[units.a]\ncallsign = "x"\nkind = "bike"\n', pytest.raises(ConfigError),
         r"lookout.toml:3 units.a.kind: input should be 'car', 'motorcycle', 'foot', 'drone' or 'boat'"),
        ('[units.a]\ncallsign = "x"\nlat_deg = 3\n', pytest.raises(ConfigError),
         r"units.a: give both lat_deg and lon_deg, or neither"),
        ('[units.a]\ncallsign = "x"\nstatus = "busy"\n', pytest.raises(ConfigError), r"units.a.status"),
        (f"[response_areas.a]\ntarget_min = 2\n{AREA}\n", pytest.raises(ConfigError),
         r"lookout.toml:2 response_areas.a.target_min: input should be 1, 3 or 5"),
        ('[response_areas.a]\ntarget_min = 3\ngeometry = {type="Polygon", coordinates=[[[0,0],[1,0],[1,1]]]}\n',
         pytest.raises(ConfigError), r"response_areas.a.geometry: a ring needs at least 4 \[lon, lat\] positions"),
        ('[response_areas.a]\ntarget_min = 3\ngeometry = {type="Polygon", '
         'coordinates=[[[52,4],[52,200],[53,4],[52,4]]]}\n',
         pytest.raises(ConfigError), r"is not \[lon, lat\] in degrees \(GeoJSON puts lon first\)"),
        ('[response_areas.a]\ntarget_min = 3\ngeometry = {type="Point", coordinates=[4, 52]}\n',
         pytest.raises(ConfigError), r'needs type = "Polygon" or "MultiPolygon"'),
        ("[dispatch]\nspeeds_m_s = { bike = 3 }\n", pytest.raises(ConfigError),
         r"dispatch.speeds_m_s: unknown kind 'bike'"),
        ("[dispatch]\ndetour_factor = 0.5\n", pytest.raises(ConfigError), r"dispatch.detour_factor"),
    ],
)  # fmt: skip
def test_dispatch_sections(text: str, expectation: Any, message: str | None) -> None:
    with expectation as e:
        cfg = parse_config(text)
    if message is not None:
        assert e is not None
        assert e.match(message)
    else:
        assert set(cfg.dispatch.all_sinks()) == {"desk", "files", "bus"}
        assert cfg.dispatch.speed_m_s("foot") == 1.4 and cfg.dispatch.speed_m_s("car") == 11.0
        assert cfg.units["f1"].lat_deg is None and cfg.response_areas["station"].target_min == 1
        assert parse_config(dump_toml(cfg)) == cfg  # `lookout config show` writes it back


def test_webhook_url_shorthand_is_a_sink() -> None:
    cfg = parse_config('[dispatch]\nwebhook_url = "https://desk.example/h"\n')
    assert cfg.dispatch.all_sinks()["webhook"].url == "https://desk.example/h"
