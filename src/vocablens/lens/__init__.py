"""The residual logit lens: :class:`~vocablens.lens.logit_lens.Lens`, its statistics and result.

* :mod:`~vocablens.lens.logit_lens`: the lens (tokenize, capture, read out in chunks).
* :mod:`~vocablens.lens.stats`: per-position statistics of the read-outs.
* :mod:`~vocablens.lens.result`: :class:`~vocablens.lens.result.LensResult` and its JSON layout.
"""
