"""Configuration: typed models (``models``) and the start-up composition that builds them.

``models`` is imported by every component and stays free of Hydra. The launcher
uses ``loader.load_config`` (Hydra composition, config.ini / .env / env / CLI
layers, one validation pass), ``cli_flags`` (the seed's flags) and ``render``
(the redacted ``--print-config`` output). Only this package reads the environment.
"""
