"""Shared HTTP behaviour of the bindings: retries, timeouts, limits, cancellation, errors."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import time

import pytest
from model_protocol_server import FAST_RETRIES, ModelProtocolServer, Step, answer_for

from lightrag.llm._http import HttpModelError
from lightrag.llm.ollama import OllamaChatModel
from lightrag.llm.openai import OpenAIChatModel
from lightrag.vocabulary.models import ModelError

PATH = "/v1/chat/completions"


def openai_chat(url: str, **extra: object) -> OpenAIChatModel:
    config = {"host": f"{url}/v1", "model": "gpt-test", "api_key": "sk-test-secret-0042"}
    return OpenAIChatModel({**config, **FAST_RETRIES, **extra})


async def wait_for_disconnect(server: ModelProtocolServer, path: str) -> None:
    for _ in range(250):
        if path in server.state.disconnects:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the server never saw the client disconnect from {path}")


async def test_5xx_then_success_is_retried_transparently(server: ModelProtocolServer) -> None:
    server.state.plan(PATH, Step(500), Step(502))
    llm = openai_chat(server.url)
    assert await llm.complete("hello") == answer_for("hello")
    assert len(server.state.bodies(PATH)) == 3
    await llm.aclose()


async def test_5xx_every_time_fails_after_max_retries(server: ModelProtocolServer) -> None:
    server.state.plan(PATH, *[Step(503, {"error": {"message": "overloaded"}})] * 5)
    llm = openai_chat(server.url, max_retries=2)
    with pytest.raises(HttpModelError, match=r"HTTP 503 after 3 attempts: overloaded") as caught:
        await llm.complete("hello")
    assert caught.value.status_code == 503
    assert len(server.state.bodies(PATH)) == 3
    await llm.aclose()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_4xx_other_than_429_is_not_retried(server: ModelProtocolServer, status: int) -> None:
    server.state.plan(PATH, Step(status, {"error": {"message": "bad request body"}}))
    llm = openai_chat(server.url)
    with pytest.raises(ModelError, match=rf"HTTP {status}: bad request body"):
        await llm.complete("hello")
    assert len(server.state.bodies(PATH)) == 1
    await llm.aclose()


async def test_429_waits_the_retry_after_seconds(server: ModelProtocolServer) -> None:
    server.state.plan(PATH, Step(429, headers={"Retry-After": "1"}))
    llm = openai_chat(server.url)
    assert await llm.complete("hello") == answer_for("hello")
    first, second = server.state.seen
    assert second.at - first.at >= 0.95
    await llm.aclose()


async def test_429_with_an_http_date_retry_after_is_honoured(server: ModelProtocolServer) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    server.state.plan(PATH, Step(429, headers={"Retry-After": when}))
    llm = openai_chat(server.url)
    assert await llm.complete("hello") == answer_for("hello")
    first, second = server.state.seen
    assert second.at - first.at >= 0.5  # the date has one-second resolution
    await llm.aclose()


async def test_retry_after_longer_than_the_limit_fails_at_once(server: ModelProtocolServer) -> None:
    server.state.plan(PATH, Step(429, headers={"Retry-After": "3600"}))
    llm = openai_chat(server.url, retry_max_delay=5)
    with pytest.raises(ModelError, match=r"retry after 3600s, more than retry_max_delay=5"):
        await llm.complete("hello")
    assert len(server.state.bodies(PATH)) == 1
    await llm.aclose()


async def test_timeout_raises_model_error_without_retrying(server: ModelProtocolServer) -> None:
    server.state.plan(PATH, Step(delay=5))
    llm = openai_chat(server.url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ModelError, match=r"no answer within 0.3s"):
        await llm.complete("hello")
    assert time.monotonic() - started < 2
    assert len(server.state.bodies(PATH)) == 1
    await wait_for_disconnect(server, PATH)
    await llm.aclose()


async def test_zero_or_none_timeout_means_no_limit(server: ModelProtocolServer) -> None:
    for value in (0, "none", None):
        llm = openai_chat(server.url, timeout=value)
        assert llm.config.timeout is None
        assert await llm.complete("x") == answer_for("x")
        await llm.aclose()


async def test_connection_refused_is_retried_then_names_the_host(closed_port_url: str) -> None:
    llm = openai_chat(closed_port_url, max_retries=2)
    with pytest.raises(ModelError, match="connection failed after 3 attempts") as caught:
        await llm.complete("hello")
    message = str(caught.value)
    assert "openai chat model 'gpt-test'" in message
    assert f"{closed_port_url}/v1" in message
    await llm.aclose()


async def test_error_messages_and_config_never_show_the_api_key(
    server: ModelProtocolServer,
) -> None:
    server.state.required_key = "the-right-key"
    llm = openai_chat(server.url)
    with pytest.raises(ModelError) as caught:
        await llm.complete("hello")
    message = str(caught.value)
    assert "HTTP 401" in message
    assert "Incorrect API key provided: ***" in message  # the server echoed it; we redact
    assert "sk-test-secret-0042" not in message
    assert "sk-test-secret-0042" not in repr(llm.config)
    assert "sk-test-secret-0042" not in str(llm.config.model_dump())
    await llm.aclose()


async def test_credentials_in_the_host_url_are_not_shown(closed_port_url: str) -> None:
    host = closed_port_url.replace("http://", "http://user:hunter22@")
    llm = openai_chat(host, max_retries=0)
    with pytest.raises(ModelError) as caught:
        await llm.complete("hello")
    assert "hunter22" not in str(caught.value)
    await llm.aclose()


async def test_max_async_bounds_concurrent_requests_across_callers(
    server: ModelProtocolServer,
) -> None:
    server.state.handler_delay = 0.15
    llm = openai_chat(server.url, max_async=2)
    answers = await asyncio.gather(*(llm.complete(f"q{i}") for i in range(8)))
    assert answers == [answer_for(f"q{i}") for i in range(8)]
    assert server.state.max_in_flight == 2
    await llm.aclose()


async def test_closing_a_stream_early_disconnects_from_the_server(
    server: ModelProtocolServer,
) -> None:
    server.state.stream_pause = 0.5
    llm = openai_chat(server.url)
    stream = llm.stream("a long answer please")
    first = await anext(stream)
    assert first == "You "
    await stream.aclose()  # type: ignore[attr-defined]
    await wait_for_disconnect(server, PATH)
    await llm.aclose()


async def test_cancelling_a_streaming_task_disconnects_from_the_server(
    server: ModelProtocolServer,
) -> None:
    server.state.stream_pause = 0.5
    llm = OllamaChatModel({"host": server.url, "model": "m", **FAST_RETRIES})
    got_first = asyncio.Event()

    async def consume() -> None:
        async for _ in llm.stream("a long answer please"):
            got_first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_disconnect(server, "/api/chat")
    await llm.aclose()


async def test_cancelling_a_complete_call_disconnects_and_frees_the_slot(
    server: ModelProtocolServer,
) -> None:
    server.state.plan(PATH, Step(delay=10))
    llm = openai_chat(server.url, max_async=1)
    task = asyncio.create_task(llm.complete("slow"))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_disconnect(server, PATH)
    # the only slot was released: the next call goes through
    assert await asyncio.wait_for(llm.complete("next"), 5) == answer_for("next")
    await llm.aclose()


async def test_connection_dropped_mid_stream_raises_model_error(
    server: ModelProtocolServer,
) -> None:
    server.state.stream_break_after = 3
    llm = openai_chat(server.url)
    received = []
    with pytest.raises(ModelError, match="stream broke off") as caught:
        async for piece in llm.stream("tell me"):
            received.append(piece)
    assert received == ["You ", "said: ", "tell "]
    assert "openai chat model 'gpt-test'" in str(caught.value)
    assert len(server.state.bodies(PATH)) == 1  # delivered pieces are never replayed
    await llm.aclose()


async def test_stalled_stream_hits_the_per_piece_timeout(server: ModelProtocolServer) -> None:
    server.state.stream_pause = 3
    llm = openai_chat(server.url, timeout=0.4)
    with pytest.raises(ModelError, match="stream stalled"):
        async for _ in llm.stream("tell me"):
            pass
    await llm.aclose()


def test_invalid_settings_are_rejected_with_the_key_named() -> None:
    with pytest.raises(ValueError, match="host must be an http"):
        OpenAIChatModel({"host": "localhost:8000", "model": "m"})
    with pytest.raises(ValueError, match="max_async"):
        OpenAIChatModel({"host": "http://x", "model": "m", "max_async": 0})
    with pytest.raises(ValueError, match="max_asnyc"):
        OpenAIChatModel({"host": "http://x", "model": "m", "max_asnyc": 2})


async def test_malformed_history_is_a_value_error_naming_the_turn(
    server: ModelProtocolServer,
) -> None:
    llm = openai_chat(server.url)
    with pytest.raises(ValueError, match=r"history\[1\]"):
        await llm.complete("x", history=[{"role": "user", "content": "a"}, {"role": "bot"}])  # type: ignore[list-item]
    assert server.state.seen == []
    await llm.aclose()


async def test_vllm_style_error_bodies_give_their_message(server: ModelProtocolServer) -> None:
    body = {"object": "error", "message": "maximum context length is 4096 tokens", "code": 400}
    server.state.plan(PATH, Step(400, body))
    llm = openai_chat(server.url)
    with pytest.raises(ModelError, match="HTTP 400: maximum context length is 4096 tokens"):
        await llm.complete("hello")
    await llm.aclose()


async def test_secrets_in_custom_auth_headers_are_redacted(server: ModelProtocolServer) -> None:
    server.state.plan(PATH, Step(403, {"error": "key custom-secret-value is not allowed"}))
    llm = openai_chat(server.url, api_key=None, headers={"X-Api-Key": "custom-secret-value"})
    with pytest.raises(ModelError, match=r"HTTP 403: key \*\*\* is not allowed") as caught:
        await llm.complete("hello")
    assert "custom-secret-value" not in str(caught.value)
    assert server.state.seen[0].headers["x-api-key"] == "custom-secret-value"
    assert "authorization" not in server.state.seen[0].headers
    await llm.aclose()


async def test_retries_back_off_exponentially_with_jitter_up_to_the_cap(
    server: ModelProtocolServer,
) -> None:
    # initial 0.2 s doubling, capped at 0.3 s; jitter draws from [half, all] of each step.
    server.state.plan(PATH, Step(503), Step(429), Step(502))
    llm = openai_chat(server.url, retry_initial_delay=0.2, retry_max_delay=0.3)
    assert await llm.complete("hello") == answer_for("hello")
    at = [seen.at for seen in server.state.seen]
    gaps = [later - earlier for earlier, later in itertools.pairwise(at)]
    assert len(gaps) == 3
    assert gaps[0] >= 0.1 - 0.01  # attempt 1: [0.1, 0.2]
    assert gaps[1] >= 0.15 - 0.01 and gaps[2] >= 0.15 - 0.01  # capped: [0.15, 0.3]
    await llm.aclose()


async def test_backoff_delays_are_jittered_within_half_to_all_of_the_capped_step() -> None:
    llm = openai_chat("http://127.0.0.1:9", retry_initial_delay=1.0, retry_max_delay=6.0)
    for attempt, cap in enumerate([1.0, 2.0, 4.0, 6.0, 6.0]):
        delays = {llm._http._backoff(attempt) for _ in range(50)}
        assert all(cap / 2 <= delay <= cap for delay in delays), (attempt, delays)
        assert len(delays) > 1  # jittered: callers retrying together spread out
    await llm.aclose()
