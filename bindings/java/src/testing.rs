//! Test-only entry points (feature `testing`): they let the JUnit suite prove the error and
//! panic mapping and run the shared configuration vectors against the core's resolver.

use crate::convert;
use crate::entry;
use jni::objects::{JClass, JObjectArray, JString};
use jni::EnvUnowned;
use polytrace_core::config::Config;
use polytrace_core::error::testing;

/// `void testingPanic()`: panics inside the core; must throw `PolytraceException.Internal`.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_testingPanic<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
) {
    entry!(unowned, |_env| Ok(testing::panic_now()?))
}

/// `void testingError(String kind)`: returns a core error of the named kind; must throw that
/// kind's exception.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_testingError<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    kind: JString<'l>,
) {
    entry!(unowned, |env| {
        let kind = convert::string(env, &kind)?;
        Ok(testing::error(&kind)?)
    })
}

/// `String[] testingResolveConfig(String[] env, String[] options)`: `Config::resolve` with
/// `env` as flat name, value pairs (every other variable unset) and options in the builder's
/// flat form. Returns `{n, option, value × n, warned variable...}`.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_testingResolveConfig<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    env_pairs: JObjectArray<'l, JString<'l>>,
    options: JObjectArray<'l, JString<'l>>,
) -> JObjectArray<'l, JString<'l>> {
    entry!(unowned, |env| {
        let vars = convert::strings(env, &env_pairs)?;
        let options = convert::options(&convert::strings(env, &options)?)?;
        let lookup = |name: &str| {
            vars.chunks_exact(2)
                .find(|kv| kv[0] == name)
                .map(|kv| kv[1].clone())
        };
        let (config, warnings) = Config::resolve(&options, &lookup)?;
        let effective = config.effective();
        let mut out = vec![effective.len().to_string()];
        for (k, v) in effective {
            out.push(k);
            out.push(v);
        }
        out.extend(warnings.into_iter().map(|w| w.variable));
        convert::string_array(env, &out)
    })
}
