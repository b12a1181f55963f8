//! After-fork restart: a forked child (gunicorn, uwsgi, multiprocessing) that calls
//! `after_fork_child` gets a working pipeline of its own (new worker, exporter, resource with
//! its pid, reseeded ids), while the parent keeps exporting its own spans.
//!
//! This binary holds this one test only, so the fork happens with as few threads as possible
//! (the harness, the receiver's runtime and the parent pipeline's threads).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config, i, proto_int, received_spans, s};
use polytrace_core::*;
use polytrace_receiver::{Receiver, ReceiverConfig};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Child exit codes (0 = success).
const CHILD_RESTART_FAILED: i32 = 2;
const CHILD_FLUSH_FAILED: i32 = 3;
const CHILD_WRONG_STATS: i32 = 4;
const CHILD_SHUTDOWN_FAILED: i32 = 5;
const CHILD_PANICKED: i32 = 6;

/// What the forked child runs. Returns its exit code; never panics out.
fn in_child(p: &Provider) -> i32 {
    let run = || -> Result<(), i32> {
        p.after_fork_child().map_err(|_| CHILD_RESTART_FAILED)?;
        let t = p.tracer("fork-child", None, None, vec![]);
        for k in 0..5 {
            let mut sp = t.start_span(format!("child-{k}"), StartOptions::default());
            sp.set_attribute("k", k as i64);
            sp.end(None);
        }
        p.force_flush(Duration::from_secs(5))
            .map_err(|_| CHILD_FLUSH_FAILED)?;
        // Counters restart at zero in the child.
        let st = p.stats();
        if st.spans_started != 5 || st.spans_ended != 5 || st.spans_exported != 5 {
            return Err(CHILD_WRONG_STATS);
        }
        p.shutdown(Duration::from_secs(5))
            .map_err(|_| CHILD_SHUTDOWN_FAILED)?;
        Ok(())
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(())) => 0,
        Ok(Err(code)) => code,
        Err(_) => CHILD_PANICKED,
    }
}

/// Waits for `pid` at most `limit`; kills it when it hangs (a deadlock in the child must fail
/// the test, not hang it). Returns the wait status, or `None` when it had to be killed.
fn wait_child(pid: libc::pid_t, limit: Duration) -> Option<libc::c_int> {
    let deadline = Instant::now() + limit;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(status);
        }
        assert!(
            r == 0,
            "waitpid failed: {}",
            std::io::Error::last_os_error()
        );
        if Instant::now() >= deadline {
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn forked_child_gets_its_own_pipeline() {
    let r = Receiver::start(ReceiverConfig::http()).unwrap();
    let p = Provider::from_config(config(&[
        ("exporter", s("otlp")),
        ("protocol", s("http/protobuf")),
        ("traces_endpoint", s(&r.http_endpoint().unwrap())),
        ("service_name", s("fork-test")),
        ("schedule_delay", i(300)),
        ("timeout", i(5_000)),
    ]))
    .unwrap();
    let t = p.tracer("fork-parent", None, None, vec![]);

    // Ended before the fork, most likely still queued at the fork: the parent exports it,
    // the child (with a fresh queue) must not.
    let mut before = t.start_span("parent-before-fork", StartOptions::default());
    before.end(None);
    let before = before.span_context().clone();

    // SAFETY: the child only calls into the core and then `_exit`s: it never returns into
    // the test harness, never unwinds out, and runs no destructor of the parent's state.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = in_child(&p);
        // SAFETY: ends the child at once, without running the harness or atexit handlers.
        unsafe { libc::_exit(code) };
    }
    assert!(pid > 0, "fork failed: {}", std::io::Error::last_os_error());

    // The parent keeps working while the child runs; its ids differ from the child's (the
    // generator was reseeded there).
    let mut after = t.start_span("parent-after-fork", StartOptions::default());
    after.end(None);
    let after = after.span_context().clone();

    let status = wait_child(pid, Duration::from_secs(20));
    let status = status.unwrap_or_else(|| panic!("the child hung (killed after 20 s)"));
    assert!(
        libc::WIFEXITED(status),
        "the child did not exit normally (wait status {status:#x})"
    );
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "child exit code (see CHILD_*)"
    );

    p.force_flush(Duration::from_secs(10)).unwrap();
    assert!(
        r.wait_for_spans(7, Duration::from_secs(10)),
        "got {} spans",
        r.span_count()
    );
    let got = received_spans(&r.requests());
    assert_eq!(got.len(), 7, "{got:#?}");

    let parent_pid = i64::from(std::process::id());
    let child_pid = i64::from(pid);
    let children: Vec<_> = got
        .iter()
        .filter(|g| g.span.name.starts_with("child-"))
        .collect();
    assert_eq!(children.len(), 5, "{got:#?}");
    let mut child_traces = HashSet::new();
    for g in &children {
        assert_eq!(proto_int(&g.resource, "process.pid"), Some(child_pid));
        assert_eq!(g.scope.as_ref().unwrap().name, "fork-child");
        assert_ne!(g.span.trace_id, before.trace_id.0);
        assert_ne!(g.span.trace_id, after.trace_id.0);
        child_traces.insert(g.span.trace_id.clone());
    }
    assert_eq!(child_traces.len(), 5, "child trace ids repeat");

    for ctx in [&before, &after] {
        let hits: Vec<_> = got
            .iter()
            .filter(|g| g.span.span_id == ctx.span_id.0)
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "parent span {} arrived {} times",
            ctx.span_id,
            hits.len()
        );
        assert_eq!(
            proto_int(&hits[0].resource, "process.pid"),
            Some(parent_pid)
        );
        assert_eq!(hits[0].span.trace_id, ctx.trace_id.0);
    }

    // The parent's pipeline still works, and its counters were not reset by the child.
    let mut late = t.start_span("parent-late", StartOptions::default());
    late.end(None);
    p.force_flush(Duration::from_secs(10)).unwrap();
    assert!(r.wait_for_spans(8, Duration::from_secs(10)));
    let st = p.stats();
    assert_eq!(st.spans_ended, 3, "{st:?}");
    assert_eq!(st.spans_exported, 3, "{st:?}");
    assert_eq!(st.spans_dropped, 0, "{st:?}");
    p.shutdown(Duration::from_secs(10)).unwrap();
    r.shutdown();
}
