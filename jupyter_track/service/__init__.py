"""The JupyterHub team service: ``jupyter-track service`` (see :mod:`.app`)."""
