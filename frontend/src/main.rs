//! Reads the console's configuration, then mounts the Agent Console on the page.

/// The allocator: talc, about 0.3 KB less WASM after brotli than Rust's default
/// (dlmalloc), and as fast for the console (its benchmark's timings within their noise).
#[cfg(target_family = "wasm")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    // A panic's message and where it happened, in the browser's console (the WASM has
    // no names, so a JavaScript stack would add nothing; console_error_panic_hook's
    // costs 0.3 KB more after brotli).
    std::panic::set_hook(Box::new(|panic| {
        web_sys::console::error_1(&panic.to_string().into());
    }));
    wasm_bindgen_futures::spawn_local(async {
        console_frontend::config::load().await;
        leptos::mount::mount_to_body(console_frontend::app::App);
    });
}
