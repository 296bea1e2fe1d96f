"""Drawing of the experiments' figures (``vaetheory experiment NAME``); computes nothing.

One module per experiment (or per pair that share panels): :mod:`.training` draws
``unbounded-training`` and ``floors``. Each drawing function takes the plain records an experiment
wrote (``DIR/runs/<name>.json``, or the ``details`` its ``run`` returns) and returns a matplotlib
figure in the package style (:mod:`vaetheory.plots.style`). Which function draws which experiment
is said once, in :data:`vaetheory.figures.experiments.FIGURES`.
"""

from __future__ import annotations

from vaetheory.plots.experiments.training import draw_floors, draw_unbounded_training

__all__ = ["draw_floors", "draw_unbounded_training"]
