//! Reads the console's configuration, then mounts the Agent Console on the page.

fn main() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        console_frontend::config::load().await;
        leptos::mount::mount_to_body(console_frontend::app::App);
    });
}
