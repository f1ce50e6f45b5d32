"""The Jupyter server extension: REST API under ``{base_url}jupyter-track/api/``."""
