"""The remedies study (``vaetheory remedies``): every decoder-variance remedy, its theory and its runs.

* :mod:`.study` -- the rows (:data:`~.study.ROWS`), the VAE runs on digits, the evaluation, the
  Stirn et al. ordering question and :func:`~.study.run_study`;
* :mod:`.regression` -- the same remedies for mean-variance regression p(y | x) on Seitzer et
  al.'s sine data.

The theory of each row is :mod:`vaetheory.symbolic.remedies` (theory section 7).
"""
