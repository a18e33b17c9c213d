"""A picture of a route over the map's walkable ways, for checking a route by eye."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from oculi.fonts import ui_font
from oculi.services.maps.geodesy import ruler_factors
from oculi.services.maps.graph import STEPS, WalkGraph
from oculi.services.maps.guidance import ATTRIBUTION, Route

_MARGIN_M = 150.0


def draw_route(graph: WalkGraph, route: Route, size: int = 1024) -> bytes:
    """PNG: ways in grey (steps darker), the route in blue, start green, end red."""
    lat = np.array([p[0] for p in route.geometry])
    lon = np.array([p[1] for p in route.geometry])
    kx, ky = ruler_factors(float(lat.mean()))
    x0, x1 = lon.min() * kx - _MARGIN_M, lon.max() * kx + _MARGIN_M
    y0, y1 = lat.min() * ky - _MARGIN_M, lat.max() * ky + _MARGIN_M
    scale = size / max(x1 - x0, y1 - y0)
    width, height = max(64, int((x1 - x0) * scale)), max(64, int((y1 - y0) * scale))

    def pixel(la: float, lo: float) -> tuple[float, float]:
        return (lo * kx - x0) * scale, (y1 - la * ky) * scale

    image = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    south, north = (y0 / ky, y1 / ky)
    west, east = (x0 / kx, x1 / kx)
    for edge in range(graph.edge_count):
        shape_lat, shape_lon = graph.edge_shape(edge)
        if (shape_lat.max() < south or shape_lat.min() > north
                or shape_lon.max() < west or shape_lon.min() > east):  # fmt: skip
            continue
        colour = (120, 120, 120) if graph.edge_flags[edge] & STEPS else (190, 190, 190)
        draw.line([pixel(a, b) for a, b in zip(shape_lat, shape_lon, strict=True)],
                  fill=colour, width=2)  # fmt: skip
    draw.line([pixel(a, b) for a, b in route.geometry], fill=(30, 90, 220), width=5, joint="curve")
    for point, colour in ((route.geometry[0], (20, 160, 60)), (route.geometry[-1], (210, 40, 40))):
        x, y = pixel(*point)
        draw.ellipse([x - 8, y - 8, x + 8, y + 8], fill=colour, outline=(255, 255, 255), width=2)
    font = ui_font(14)
    label = f"{route.distance_m:.0f} m · {route.duration_s / 60:.0f} min   {ATTRIBUTION}"
    draw.text((8, height - 8), label, fill=(60, 60, 60), font=font, anchor="ls")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
