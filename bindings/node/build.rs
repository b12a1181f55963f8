//! Link flags for a Node-API addon (undefined `napi_*` symbols resolved by the host process).
fn main() {
    napi_build::setup();
}
