//! The core's diagnostics (a bad environment value, an export failure, a dropped attribute)
//! routed to Erlang's `logger`: the core's handler queues each message for a forwarding thread,
//! which sends `{polytrace_diag, warning | error, Message}` to the process registered with
//! [`set_pid`] (`polytrace_server`, which logs it). Diagnostics arise on scheduler threads (a
//! NIF call) and on the core's export threads alike; only a thread the VM does not manage may
//! send from outside a NIF call, hence the thread. The queue is bounded and never blocks a
//! scheduler: when it is full, the message goes to stderr instead.

use parking_lot::Mutex;
use polytrace_core::diag::{self, Level};
use rustler::{Encoder, LocalPid, OwnedEnv};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

rustler::atoms! {
    polytrace_diag,
    warning,
    error,
}

/// Messages waiting for the forwarding thread, at most.
const QUEUE: usize = 1024;

static PID: Mutex<Option<LocalPid>> = Mutex::new(None);

fn to_stderr(level: Level, message: &str) {
    let word = if level == Level::Warn {
        "warning"
    } else {
        "error"
    };
    eprintln!("polytrace: {word}: {message}");
}

/// Starts the forwarding thread and installs the core's handler (once, at load).
pub fn install() {
    let (tx, rx) = sync_channel::<(Level, String)>(QUEUE);
    let spawned = std::thread::Builder::new()
        .name("polytrace-diag".into())
        .spawn(move || {
            let mut env = OwnedEnv::new();
            for (level, message) in rx {
                let pid = *PID.lock();
                let sent = pid.map(|pid| {
                    env.send_and_clear(&pid, |env| {
                        let level = if level == Level::Warn {
                            warning()
                        } else {
                            error()
                        };
                        (polytrace_diag(), level, message.as_str()).encode(env)
                    })
                });
                if !matches!(sent, Some(Ok(()))) {
                    to_stderr(level, &message);
                }
            }
        });
    if spawned.is_err() {
        return; // no thread: the core keeps printing to stderr
    }
    let tx: SyncSender<(Level, String)> = tx;
    diag::set_handler(Some(Arc::new(move |level, message: &str| {
        match tx.try_send((level, message.to_string())) {
            Ok(()) => {}
            Err(TrySendError::Full((l, m))) | Err(TrySendError::Disconnected((l, m))) => {
                to_stderr(l, &m)
            }
        }
    })));
}

/// Sends later diagnostics to `pid` (`None`: stderr).
pub fn set_pid(pid: Option<LocalPid>) {
    *PID.lock() = pid;
}
