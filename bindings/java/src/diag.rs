//! The core's diagnostics (bad environment values, export failures, dropped spans) for Java's
//! logging. They can come from any thread, including the core's export thread, which is not
//! attached to the JVM; rather than attach it, they wait in a small bounded queue that the Java
//! side reads (`takeDiagnostics`) from its flush thread and after each configuration, and logs
//! through `java.util.logging` (logger `io.polytrace`).

use crate::entry;
use jni::objects::{JClass, JObjectArray, JString};
use jni::EnvUnowned;
use parking_lot::Mutex;
use polytrace_core::diag::{self, Level};
use std::collections::VecDeque;
use std::sync::{Arc, Once};

/// Diagnostics kept at most until Java reads them; later ones are counted, not kept.
const QUEUE: usize = 256;

struct Queue {
    items: VecDeque<String>,
    lost: u64,
}

static PENDING: Mutex<Queue> = Mutex::new(Queue {
    items: VecDeque::new(),
    lost: 0,
});
static INSTALL: Once = Once::new();

fn deliver(level: Level, message: &str) {
    let mut q = PENDING.lock();
    if q.items.len() >= QUEUE {
        q.lost += 1;
        return;
    }
    let tag = match level {
        Level::Warn => 'W',
        Level::Error => 'E',
    };
    q.items.push_back(format!("{tag}{message}"));
}

/// Routes the core's diagnostics to the queue (once per process).
pub fn install() {
    INSTALL.call_once(|| diag::set_handler(Some(Arc::new(deliver))));
}

/// `String[] takeDiagnostics()`: the queued diagnostics, oldest first, each prefixed by its
/// level (`W` warning, `E` error), and empties the queue.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_takeDiagnostics<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
) -> JObjectArray<'l, JString<'l>> {
    entry!(unowned, |env| {
        let items: Vec<String> = {
            let mut q = PENDING.lock();
            let mut v: Vec<String> = q.items.drain(..).collect();
            if q.lost > 0 {
                v.push(format!(
                    "E{} more diagnostics were lost (the queue was full)",
                    q.lost
                ));
                q.lost = 0;
            }
            v
        };
        crate::convert::string_array(env, &items)
    })
}
