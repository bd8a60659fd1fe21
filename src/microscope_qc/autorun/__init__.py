"""Automatic QC runs: ``microscope-qc run FOLDER... --config qc.yaml`` (docs/automatic-runs.md).

- :mod:`~microscope_qc.autorun.config`: the YAML rules (files → measurement, instrument, options);
- :mod:`~microscope_qc.autorun.runner`: finding the files, skipping those the QC history holds,
  recording each outcome (in the coordinating process only);
- :mod:`~microscope_qc.autorun.batch`: one file's analysis (the measurement command's own code
  path), run here, in a local process pool or on a dask distributed cluster;
- :mod:`~microscope_qc.autorun.summary`: ``summary.json`` and ``summary.html``;
- :mod:`~microscope_qc.autorun.watch`: watch mode (``watchfiles``);
- :mod:`~microscope_qc.autorun.command`: the command's options.

Nothing is imported here: the command line imports :mod:`~microscope_qc.autorun.command` only.
"""
