"""The dashboard server of ``surveytools serve`` (:mod:`surveytools.presentation.serve`),
one responsibility per module, imports pointing down this list::

    app        the Voila application: safe settings over every file, routes replaced
    pages      plain pages, the page's kernel-watch script, the request handlers
    kernels    what a viewer costs: forked kernels, the pre-heated pool, the cap, freeing
    websocket  what the browser may send: frames checked, tracebacks and stderr kept back
    forks      the kernel fork server and the kernels it forks
    settings   the safe settings, the serving settings' file, the dashboards folder

Nothing here imports Voila or jupyter_server until a server is built.
"""
