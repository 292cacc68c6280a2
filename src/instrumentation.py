"""Instrument every :class:`~cyhttp.ClientSession` at once: trace configs added by default.

aiohttp's instrumentation libraries (OpenTelemetry's ``AioHttpClientInstrumentor``, for
one) wrap ``aiohttp.ClientSession.__init__`` so that each new session gets their trace
config. cyhttp offers the same effect without patching anything: a registry of
*trace-config factories* that every new session calls, appending what they return to its
own ``trace_configs``::

    import cyhttp.instrumentation

    def make_config():
        config = cyhttp.TraceConfig()
        config.on_request_end.append(log_request)
        return config

    cyhttp.instrumentation.instrument_sessions(make_config)
    ...  # every ClientSession made from now on traces its requests
    cyhttp.instrumentation.uninstrument_sessions(make_config)

:func:`instrument_opentelemetry` does this with OpenTelemetry's ``create_trace_config``
(from ``opentelemetry-instrumentation-aiohttp-client``).

A session made while the registry is empty pays one truthiness test for it; sessions
already made are not changed (as with aiohttp's instrumentors).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = (
    "instrument_opentelemetry",
    "instrument_sessions",
    "instrumented",
    "uninstrument_opentelemetry",
    "uninstrument_session",
    "uninstrument_sessions",
)

#: A callable taking no argument and returning a TraceConfig (cyhttp's or aiohttp's), or
#: a sequence of them, for one new session.
TraceConfigFactory = Callable[[], Any]

#: The registered factories, in order. ``ClientSession.__init__`` reads this very list
#: (it is changed in place, never rebound): empty, it costs a session nothing more.
SESSION_TRACE_FACTORIES: list[TraceConfigFactory] = []

#: The attribute that marks a trace config added by a factory (see uninstrument_session)
_MARK = "_cyhttp_instrumented"
#: OpenTelemetry's own mark: its ``uninstrument_session`` removes the configs having it
_OTEL_MARK = "_is_instrumented_by_opentelemetry"
#: the factories instrument_opentelemetry() registered (to take them out again)
_otel_factories: list[TraceConfigFactory] = []


def instrument_sessions(factory: TraceConfigFactory) -> TraceConfigFactory:
    """Make every ClientSession created from now on call ``factory()`` and append the
    trace config (or configs) it returns to the session's own ``trace_configs``.

    Registering the same factory twice has no further effect. Returns ``factory``, so it
    can be used as a decorator."""
    if not callable(factory):
        raise TypeError(f"a trace config factory must be callable, got {factory!r}")
    if factory not in SESSION_TRACE_FACTORIES:
        SESSION_TRACE_FACTORIES.append(factory)
    return factory


def uninstrument_sessions(factory: TraceConfigFactory | None = None) -> None:
    """Stop adding ``factory``'s trace configs to new sessions (every factory's when
    ``factory`` is None). Sessions already made keep theirs: see :func:`uninstrument_session`."""
    if factory is None:
        SESSION_TRACE_FACTORIES.clear()
        _otel_factories.clear()
        return
    if factory in SESSION_TRACE_FACTORIES:
        SESSION_TRACE_FACTORIES.remove(factory)
    if factory in _otel_factories:
        _otel_factories.remove(factory)


def instrumented() -> tuple[TraceConfigFactory, ...]:
    """The factories new sessions call, in order."""
    return tuple(SESSION_TRACE_FACTORIES)


def uninstrument_session(session: Any) -> None:
    """Remove from one session the trace configs the registered factories gave it (the
    configs passed as ``trace_configs=`` stay); its next requests are not traced by them."""
    session._trace_configs = [
        config for config in session._trace_configs if not getattr(config, _MARK, False)
    ]


def session_trace_configs(trace_configs: Iterable[Any] | None) -> list[Any]:
    """``trace_configs`` (a session's argument) followed by those of every registered
    factory, each marked as added. Called by ``ClientSession.__init__`` only when some
    factory is registered."""
    configs = list(trace_configs or ())
    for factory in tuple(SESSION_TRACE_FACTORIES):
        made = factory()
        for config in _as_configs(made, factory):
            setattr(config, _MARK, True)
            configs.append(config)
    return configs


def _as_configs(made: Any, factory: TraceConfigFactory) -> Sequence[Any]:
    """What a factory returned, as a list of trace configs (TypeError otherwise: a
    mistake found when the first session is made, not silently ignored)."""
    if made is None:
        return ()
    items = list(made) if isinstance(made, (list, tuple)) else [made]
    for item in items:
        if not (hasattr(item, "trace_config_ctx") and hasattr(item, "freeze")):
            raise TypeError(
                f"trace config factory {factory!r} returned {item!r}, not a TraceConfig"
            )
    return items


# ----- OpenTelemetry -----


def instrument_opentelemetry(
    *, trace_configs: Sequence[Any] | None = None, **options: Any
) -> TraceConfigFactory:
    """Trace every ClientSession created from now on with OpenTelemetry, as
    ``AioHttpClientInstrumentor().instrument(**options)`` does for aiohttp's sessions:
    each session gets a fresh ``create_trace_config(**options)`` (one CLIENT span per
    request, the ``traceparent`` header injected, the request-duration metric), after
    its own trace configs and the extra ``trace_configs`` given here.

    ``options`` are those of ``opentelemetry.instrumentation.aiohttp_client.
    create_trace_config`` (``tracer_provider``, ``meter_provider``, ``url_filter``,
    ``request_hook``, ``response_hook``, ...). The captured and redacted headers default,
    as with the instrumentor, to the ``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*``
    environment variables. Calling it again replaces the previous call's instrumentation.

    Needs ``opentelemetry-instrumentation-aiohttp-client`` (ImportError otherwise).
    Returns the factory registered (see :func:`uninstrument_sessions`)."""
    create_trace_config = _otel_create_trace_config()
    options = {**_otel_env_options(), **options}
    extra = list(trace_configs or ())

    def opentelemetry_trace_configs() -> list[Any]:
        config = create_trace_config(**options)
        setattr(config, _OTEL_MARK, True)
        return [*extra, config]

    uninstrument_opentelemetry()
    _otel_factories.append(opentelemetry_trace_configs)
    return instrument_sessions(opentelemetry_trace_configs)


def uninstrument_opentelemetry() -> None:
    """Undo :func:`instrument_opentelemetry` for the sessions created from now on."""
    for factory in tuple(_otel_factories):
        uninstrument_sessions(factory)


def _otel_create_trace_config() -> Callable[..., Any]:
    try:
        from opentelemetry.instrumentation.aiohttp_client import create_trace_config
    except ImportError as exc:
        raise ImportError(
            "instrument_opentelemetry() needs the opentelemetry-instrumentation-aiohttp-client "
            "package: pip install opentelemetry-instrumentation-aiohttp-client"
        ) from exc
    return create_trace_config


def _otel_env_options() -> dict[str, Any]:
    """The header options ``AioHttpClientInstrumentor`` reads from the environment, and
    the semantic-conventions mode it reads from ``OTEL_SEMCONV_STABILITY_OPT_IN`` (both
    only when set)."""
    options: dict[str, Any] = {}
    env_names = {
        "captured_request_headers": "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST",
        "captured_response_headers": "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE",
        "sensitive_headers": "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS",
    }
    if any(os.environ.get(name) for name in env_names.values()):
        from opentelemetry.util.http import get_custom_headers

        for option, name in env_names.items():
            if os.environ.get(name):
                options[option] = get_custom_headers(name)
    if os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN"):
        mode = _otel_semconv_mode()
        if mode is not None:
            options["sem_conv_opt_in_mode"] = mode
    return options


def _otel_semconv_mode() -> Any:
    """The HTTP semantic-conventions mode OpenTelemetry's instrumentors use (an internal
    of the opentelemetry-instrumentation package: None if it is not there)."""
    try:
        from opentelemetry.instrumentation._semconv import (
            _OpenTelemetrySemanticConventionStability as Stability,
        )
        from opentelemetry.instrumentation._semconv import (
            _OpenTelemetryStabilitySignalType as Signal,
        )
    except ImportError:  # pragma: no cover - another opentelemetry layout
        return None
    Stability._initialize()
    return Stability._get_opentelemetry_stability_opt_in_mode(Signal.HTTP)
