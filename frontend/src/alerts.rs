//! Telling an agent about a new message while she looks elsewhere: a browser
//! notification and a short sound, each of which she can turn off. Her choice is kept in
//! the browser (localStorage).

use crate::storage::{self, Kept};
use crate::wire::{Fields, FromJson, Record, ToJson};
use wasm_bindgen::{JsCast, JsValue};

const SETTINGS_KEY: &str = "agent-console.alerts";

/// What the agent wants to be alerted with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertSettings {
    pub notify: bool,
    pub sound: bool,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            notify: true,
            sound: true,
        }
    }
}

impl AlertSettings {
    /// The saved settings, or the defaults.
    pub fn load() -> Self {
        storage::load(Kept::InBrowser, SETTINGS_KEY).unwrap_or_default()
    }

    /// Saves the settings.
    pub fn save(self) {
        let _ = storage::save(Kept::InBrowser, SETTINGS_KEY, &self);
    }
}

impl FromJson for AlertSettings {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(AlertSettings {
            notify: f.get("notify")?,
            sound: f.get("sound")?,
        })
    }
}

impl ToJson for AlertSettings {
    fn to_json(&self) -> JsValue {
        Record::new()
            .with("notify", &self.notify)
            .with("sound", &self.sound)
            .done()
    }
}

/// Asks the browser for permission to show notifications (once she turns them on).
pub fn ask_permission() {
    if web_sys::Notification::permission() == web_sys::NotificationPermission::Default {
        let _ = web_sys::Notification::request_permission();
    }
}

/// Alerts the agent as `settings` say: a notification (`title`, `body`, `tag` as for
/// [`notify`]) and the chime.
pub fn alert(settings: AlertSettings, title: &str, body: &str, tag: &str) {
    if settings.notify {
        notify(title, body, tag);
    }
    if settings.sound {
        chime();
    }
}

/// Shows a notification titled `title` with `body`; one per chat (`tag`), the newest
/// replacing the older.
pub fn notify(title: &str, body: &str, tag: &str) {
    if web_sys::Notification::permission() != web_sys::NotificationPermission::Granted {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    let _ = web_sys::Notification::new_with_options(title, &options);
}

/// Plays a short two-tone chime.
pub fn chime() {
    let Ok(context) = web_sys::AudioContext::new() else {
        return;
    };
    let start = context.current_time();
    for (i, frequency) in [880.0, 1320.0].into_iter().enumerate() {
        let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain())
        else {
            return;
        };
        let at = start + i as f64 * 0.12;
        oscillator.set_type(web_sys::OscillatorType::Sine);
        oscillator.frequency().set_value(frequency);
        gain.gain().set_value(0.0);
        let _ = gain.gain().linear_ramp_to_value_at_time(0.15, at + 0.02);
        let _ = gain.gain().linear_ramp_to_value_at_time(0.0, at + 0.11);
        let _ = oscillator.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&context.destination());
        let _ = oscillator.start_with_when(at);
        let _ = oscillator.stop_with_when(at + 0.12);
    }
    // Let the context go once the chime is over.
    let closer = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = context.close();
    });
    let _ = web_sys::window().map(|w| {
        w.set_timeout_with_callback_and_timeout_and_arguments_0(closer.unchecked_ref(), 600)
    });
}
