"""Colour-blind safety (issue 14 item 3): the palettes still separate what a figure must tell
apart under simulated deuteranopia and protanopia, and every LOST / duplicate mark has a shape
or pattern of its own, so colour never carries the meaning alone.

Simulation: Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation
of Color Vision Deficiency", severity 1.0 matrices, applied in linear sRGB; distance: CIE76 ΔE.
"""

from __future__ import annotations

import importlib
import itertools

import pytest

from kafkalab.viz import guarantee_map, ledger, log

comparison = importlib.import_module("kafkalab.viz.comparison")  # the name is also a function

MACHADO = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
}
MIN_DELTA_E = 12.0  # two marks whose colours are closer than this must differ in shape


def _lin(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(_lin(int(h[i:i + 2], 16) / 255) for i in (0, 2, 4))  # type: ignore[return-value]


def _simulate(rgb, kind):
    if kind == "normal":
        return rgb
    return tuple(min(max(sum(m * c for m, c in zip(row, rgb, strict=True)), 0.0), 1.0)
                 for row in MACHADO[kind])


def _lab(rgb):
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a: str, b: str, kind: str) -> float:
    la, lb = _lab(_simulate(_rgb(a), kind)), _lab(_simulate(_rgb(b), kind))
    return sum((p - q) ** 2 for p, q in zip(la, lb, strict=True)) ** 0.5


# figure -> [(meaning, colour, shape, is it a LOST / duplicate mark)]: what one figure shows
gm = guarantee_map
PALETTES = {
    "ledger": [(name, colour, symbol, key in ("lost", "duplicate"))
               for key, name, colour, symbol, _t in ledger.CATEGORIES],
    "log": [(name, colour, symbol, key == "duplicate")
            for key, name, colour, symbol in log.CATEGORIES],
    "comparison bars": [(name, colour, pattern, True)
                        for _k, name, colour, pattern in comparison.BARS],
    "guarantee map": [(gm._STATE_WORDS[s], gm._COLOURS[s], gm._SYMBOLS[s],
                       s in (gm._DUP, gm._LOST, gm._BOTH)) for s in gm._COLOURS],
}


@pytest.mark.parametrize("vision", ["normal", "deuteranopia", "protanopia"])
@pytest.mark.parametrize("figure", sorted(PALETTES))
def test_close_colours_differ_in_shape(figure, vision):
    close = []
    for (n1, c1, s1, _), (n2, c2, s2, _) in itertools.combinations(PALETTES[figure], 2):
        d = delta_e(c1, c2, vision)
        if d < MIN_DELTA_E and s1 == s2:
            close.append(f"{n1!r} {c1} and {n2!r} {c2}: ΔE {d:.1f}, both {s1!r}")
    assert not close, f"{figure} under {vision}: " + "; ".join(close)


@pytest.mark.parametrize("figure", sorted(PALETTES))
def test_every_lost_or_duplicate_mark_has_its_own_shape(figure):
    entries = PALETTES[figure]
    plain = {shape for _n, _c, shape, bad in entries if not bad}
    for name, _colour, shape, bad in entries:
        if bad:
            assert shape and shape not in plain and shape not in ("square", "circle"), (
                f"{figure}: {name!r} is told apart by colour only ({shape!r})")


def test_the_simulator_is_the_published_one():
    """Sanity: pure red and green become hard to tell apart under deuteranopia, and pure
    blue stays blue-ish; Okabe-Ito's orange and sky blue stay far apart."""
    assert delta_e("#FF0000", "#00FF00", "deuteranopia") < delta_e("#FF0000", "#00FF00",
                                                                   "normal") / 2
    assert delta_e("#E69F00", "#56B4E9", "deuteranopia") > 30
