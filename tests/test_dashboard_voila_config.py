"""Voila reads the project's dashboard settings (``dashboards/voila.json``).

Voila 0.5 looks for ``voila.json`` in the current directory and then on the
Jupyter config path (``<venv>/etc/jupyter``, ``~/.jupyter``, ...); see
``Voila.config_file_paths``.  Serving from ``dashboards/`` (or installing the
file into ``<venv>/etc/jupyter``) therefore applies it to every invocation.
The defaults differ from these settings (files matching images are served by
default), so this test fails if the file is not read.

``surveytools serve`` applies its safe settings itself (``tests/test_serve.py``)
and reads the serving settings from ``dashboards/surveytools_serve.json``,
which plain ``voila`` ignores: every entry there must name a real setting.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"


@pytest.fixture()
def voila_config(monkeypatch):
    from voila.app import Voila

    monkeypatch.chdir(DASHBOARDS)
    handler = signal.getsignal(signal.SIGTERM)
    app = Voila()
    try:
        app.initialize(["."])  # reads the config; starts no server
    finally:
        signal.signal(signal.SIGTERM, handler)  # Voila installs its own
    return app.voila_configuration


def test_settings_are_read_from_the_dashboards_folder(voila_config):
    assert voila_config.strip_sources is True
    assert voila_config.show_tracebacks is False
    assert voila_config.file_allowlist == []
    assert voila_config.file_denylist == [".*"]
    # a page's ?template= / ?theme= used to start a kernel that hung on an unknown template
    assert voila_config.allow_template_override == "NO"
    assert voila_config.allow_theme_override == "NO"


def test_every_serving_setting_names_a_real_setting():
    from voila.configuration import VoilaConfiguration
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    from surveytools.presentation.serving.kernels import kernel_manager_classes, pooled
    from surveytools.presentation.serving.settings import SERVE_CONFIG

    settings = json.loads((DASHBOARDS / f"{SERVE_CONFIG}.json").read_text())
    _, _, manager = kernel_manager_classes()
    pool = pooled(voila_kernel_manager_factory)(manager, True, 1)
    classes = {"VoilaConfiguration": VoilaConfiguration, "DashboardKernelManager": manager,
               "VoilaKernelManager": pool}
    for section, values in settings.items():
        assert section in classes, section
        names = set(classes[section].class_trait_names())
        for name in values:
            assert name in names, (section, name)


def test_no_file_would_be_served():
    settings = json.loads((DASHBOARDS / "voila.json").read_text())["VoilaConfiguration"]
    for path in ("wave2021.sav", "../data/tracker/wave2024.csv", "trust.ipynb", "logo.png"):
        allowed = any(re.fullmatch(p, path) for p in settings["file_allowlist"])
        denied = any(re.fullmatch(p, path) for p in settings["file_denylist"])
        assert denied or not allowed
