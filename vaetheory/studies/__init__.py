"""Studies: applications built on the library (``symbolic``, ``linear``, ``empirical``).

Each study is a subpackage that reproduces one published study end to end (configurations,
training, evaluation, claims, report); the library never imports a study.

* :mod:`vaetheory.studies.thesis_ch5` -- the thesis chapter 5 study of the common "fixes"
  (``vaetheory reproduce thesis-ch5``).
* :mod:`vaetheory.studies.experiments` -- the training experiments of issue 15
  (``vaetheory experiment NAME``).

This file imports no subpackage, so that studies can be added beside each other independently.
"""
