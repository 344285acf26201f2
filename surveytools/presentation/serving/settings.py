"""What the dashboard server is set up with: the safe settings, the serving settings' file,
the dashboards folder, the kernels' arguments and plotly's widget bundle.

Settings
--------
:data:`SAFE_SETTINGS` are applied over any configuration file.  The
serving settings (pool sizes, ``DashboardKernelManager``'s ``max_kernels``,
``unconnected_timeout``, ``disconnect_grace``, ``cull_idle_timeout`` ...)
are read from ``surveytools_serve.json`` (:data:`SERVE_CONFIG`) beside
``voila.json`` in the dashboards folder, then on the Jupyter config path;
plain ``voila`` reads only ``voila.json``.  The classes the settings name
are found by their import path: the kernel managers in
:mod:`~surveytools.presentation.serving.kernels`, the websocket connection in
:mod:`~surveytools.presentation.serving.websocket`.

Examples
--------
>>> sorted(SAFE_SETTINGS["VoilaConfiguration"])[:3]
['allow_template_override', 'allow_theme_override', 'file_allowlist']
>>> SAFE_SETTINGS["VoilaConfiguration"]["show_tracebacks"]
False
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: Environment variable naming the dashboards folder (default: ``dashboards/`` of the checkout).
DASHBOARDS_ENV = "SURVEYTOOLS_DASHBOARDS"
#: Environment variable telling kernels where the plotly widget bundle is served.
WIDGET_BUNDLE_ENV = "SURVEYTOOLS_WIDGET_BUNDLE"
_PACKAGE = Path(__file__).resolve().parents[2]
_HERE = "surveytools.presentation.serving"

#: The file (``.json`` or ``.py``, beside ``voila.json``) of the serving settings:
#: pre-heated pool sizes, kernel limits and timeouts.  Plain ``voila`` does not read it.
SERVE_CONFIG = "surveytools_serve"

#: Shown instead of a failed cell's error (which a viewer never sees).
CELL_ERROR = ("This part of the dashboard could not be shown. Reload the page; if it happens "
              "again, tell the team that runs the dashboards.")

#: Settings applied over every configuration file: what keeps the server safe.
SAFE_SETTINGS: dict = {
    "VoilaConfiguration": {
        "strip_sources": True,
        "show_tracebacks": False,
        "file_allowlist": [],
        "file_denylist": [".*"],
        "http_header_envs": [],
        "allow_template_override": "NO",
        "allow_theme_override": "NO",
        "template": "lab",
        "progressive_rendering": False,
        "prelaunch_hook": None,
        "multi_kernel_manager_class": f"{_HERE}.kernels.DashboardKernelManager",
    },
    "VoilaExecutor": {"show_tracebacks": False, "cell_error_instruction": CELL_ERROR},
    "Voila": {
        "kernel_websocket_connection_class": f"{_HERE}.websocket.SafeKernelConnection",
        "port_retries": 0,
        "autoreload": False,
    },
    "MappingKernelManager": {"allow_tracebacks": False, "cull_busy": False},
    "KernelManager": {"transport": "ipc"},
    # a dead dashboard kernel is not restarted: a fresh kernel would not
    # have run the notebook, and the page could not work with it.
    "KernelRestarter": {"restart_limit": 0},
}

#: The class of one dashboard kernel (``DashboardKernelManager.kernel_manager_class``).
KERNEL_CLASS = f"{_HERE}.kernels.DashboardKernel"

#: Arguments every dashboard kernel starts with: output written below C level
#: (warnings of C libraries, subprocesses) goes to the server's log, not to
#: the page; no command history is written; plotly's widget code is loaded
#: from this server and the widgets' comm targets are registered
#: (:func:`surveytools.presentation.voila.prepare_kernel`).
KERNEL_ARGS = ["--IPKernelApp.capture_fd_output=False", "--HistoryManager.enabled=False",
               "--IPKernelApp.exec_lines=__import__('surveytools.presentation.voila', "
               "fromlist=['_']).prepare_kernel()"]


def dashboards_folder() -> Path:
    """The dashboards: ``$SURVEYTOOLS_DASHBOARDS``, else ``dashboards/`` beside the package
    (a checkout), else ``./dashboards``.

    Raises
    ------
    ManifestError
        No folder with dashboard notebooks there.
    """
    from ...core.errors import ManifestError

    configured = os.environ.get(DASHBOARDS_ENV)
    candidates = [Path(configured)] if configured else [_PACKAGE.parent / "dashboards",
                                                        Path.cwd() / "dashboards"]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.ipynb")):
            return folder.resolve()
    raise ManifestError("no dashboards folder found", file=candidates[0],
                        expected="a folder of Voila notebooks (dashboards/*.ipynb)", found="none",
                        hint=f"set {DASHBOARDS_ENV}=/path/to/dashboards")


def config_paths(folder: Path) -> list[str]:
    """Where the server reads ``voila.json`` and :data:`SERVE_CONFIG`: the dashboards
    folder first, then the Jupyter config path."""
    from jupyter_core.paths import jupyter_config_path

    return [str(folder), *jupyter_config_path()]


def widget_bundle() -> tuple[Path, str] | None:
    """plotly's widget bundle and its content hash (None if plotly has none)."""
    try:
        import plotly
    except ImportError:  # pragma: no cover - plotly is a dependency
        return None
    path = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    if not path.is_file():
        return None
    return path, hashlib.sha256(path.read_bytes()).hexdigest()[:16]
