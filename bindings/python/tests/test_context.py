"""Context goes through opentelemetry.context: threads, asyncio tasks and contextvars copies keep
the right parent."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import threading

from opentelemetry import context, trace


def test_threads_do_not_share_the_current_span(fp):
    t = fp.provider.get_tracer("t")
    barrier = threading.Barrier(4)
    errors = []

    def worker(i):
        try:
            with t.start_as_current_span(f"root-{i}") as root:
                barrier.wait(timeout=10)
                with t.start_as_current_span(f"child-{i}"):
                    assert trace.get_current_span().get_span_context().trace_id == \
                        root.get_span_context().trace_id
                barrier.wait(timeout=10)
                assert trace.get_current_span() is root
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    spans = fp.by_name()
    for i in range(4):
        assert spans[f"child-{i}"]["parent_span_id"] == spans[f"root-{i}"]["span_id"]
        assert spans[f"root-{i}"]["parent_span_id"] == ""


def test_thread_pool_with_copied_context(fp):
    t = fp.provider.get_tracer("t")
    with t.start_as_current_span("request"):
        ctx = contextvars.copy_context()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futs = [pool.submit(ctx.copy().run, lambda i=i: t.start_span(f"job-{i}").end())
                    for i in range(3)]
            for f in futs:
                f.result()
    spans = fp.by_name()
    for i in range(3):
        assert spans[f"job-{i}"]["parent_span_id"] == spans["request"]["span_id"]


def test_asyncio_tasks_keep_their_parent(fp):
    t = fp.provider.get_tracer("t")

    async def leaf(i):
        with t.start_as_current_span(f"leaf-{i}"):
            await asyncio.sleep(0.01 * (3 - i))

    async def branch(i):
        with t.start_as_current_span(f"branch-{i}"):
            await asyncio.gather(leaf(i), asyncio.sleep(0))

    async def main():
        with t.start_as_current_span("main"):
            await asyncio.gather(*(asyncio.create_task(branch(i)) for i in range(3)))
            assert trace.get_current_span().get_span_context().span_id != 0

    asyncio.run(main())
    spans = fp.by_name()
    for i in range(3):
        assert spans[f"branch-{i}"]["parent_span_id"] == spans["main"]["span_id"]
        assert spans[f"leaf-{i}"]["parent_span_id"] == spans[f"branch-{i}"]["span_id"]


def test_explicit_context_attach_detach(fp):
    t = fp.provider.get_tracer("t")
    span = t.start_span("attached")
    token = context.attach(trace.set_span_in_context(span))
    try:
        t.start_span("under").end()
    finally:
        context.detach(token)
    span.end()
    t.start_span("unrelated").end()
    spans = fp.by_name()
    assert spans["under"]["parent_span_id"] == spans["attached"]["span_id"]
    assert spans["unrelated"]["parent_span_id"] == ""


def test_detach_with_foreign_token_is_logged_not_raised(fp, caplog):
    """What users see is what `opentelemetry.context.detach` shows for the same mistake: one
    ERROR record "Failed to detach context" on the `opentelemetry.context` logger, naming the
    cause; nothing raised, and the span still ends and is exported."""
    t = fp.provider.get_tracer("t")
    cm = t.start_as_current_span("x")
    # Entered in a copy, so that the span does not stay current for the tests that follow.
    contextvars.copy_context().run(cm.__enter__)
    caplog.clear()
    # Exit from another context (as a generator closed elsewhere would): must not raise.
    ctx = contextvars.Context()
    with caplog.at_level(logging.DEBUG, logger="opentelemetry.context"):
        ctx.run(cm.__exit__, None, None, None)
    records = [r for r in caplog.records if r.name == "opentelemetry.context"]
    assert [(r.levelno, r.getMessage().split(":")[0]) for r in records] == [
        (logging.ERROR, "Failed to detach context")
    ], caplog.text
    assert "was created in a different Context" in records[0].getMessage()
    assert "x" in fp.by_name()


def test_start_as_current_span_with_explicit_context_keeps_current_values(fp):
    """As use_span: the span becomes current in the *current* context, whatever context gave
    its parent (here the current context carries baggage that must stay visible)."""
    from opentelemetry import baggage

    t = fp.provider.get_tracer("t")
    other_root = t.start_span("other-root")
    parent_ctx = trace.set_span_in_context(other_root)
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with t.start_as_current_span("child", context=parent_ctx) as child:
            assert trace.get_current_span() is child
            assert baggage.get_baggage("tenant") == "acme"
    finally:
        context.detach(token)
    other_root.end()
    spans = fp.by_name()
    assert spans["child"]["parent_span_id"] == spans["other-root"]["span_id"]
