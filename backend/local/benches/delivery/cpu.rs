//! CPU time spent by a process's threads, read from their `/proc/<pid>/task/<tid>/schedstat`
//! (nanoseconds on a CPU, and waiting for one): over a counting window, what each side of
//! a run cost per message, and how long the store's writer thread waited for a core.

use anyhow::Context;
use std::time::Duration;

/// Time on a CPU, and time runnable but waiting for one, so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spent {
    pub running: Duration,
    pub waiting: Duration,
}

impl std::ops::Sub for Spent {
    type Output = Spent;

    fn sub(self, earlier: Spent) -> Spent {
        Spent {
            running: self.running.saturating_sub(earlier.running),
            waiting: self.waiting.saturating_sub(earlier.waiting),
        }
    }
}

/// What the threads of process `pid` alive now have spent (`only`: the thread of that
/// name alone).
pub fn of(pid: u32, only: Option<&str>) -> anyhow::Result<Spent> {
    let tasks = format!("/proc/{pid}/task");
    let mut spent = Spent::default();
    for task in std::fs::read_dir(&tasks).with_context(|| format!("cannot list {tasks}"))? {
        let dir = task?.path();
        if let Some(name) = only {
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if comm.trim_end() != name {
                continue;
            }
        }
        // A thread that ended meanwhile has no file any more: it adds nothing.
        let Ok(line) = std::fs::read_to_string(dir.join("schedstat")) else {
            continue;
        };
        let mut fields = line.split_whitespace().map(str::parse::<u64>);
        let (Some(Ok(running)), Some(Ok(waiting))) = (fields.next(), fields.next()) else {
            anyhow::bail!("unreadable {}: {line}", dir.join("schedstat").display());
        };
        spent.running += Duration::from_nanos(running);
        spent.waiting += Duration::from_nanos(waiting);
    }
    Ok(spent)
}

/// What this process's threads have spent so far.
pub fn of_self() -> anyhow::Result<Spent> {
    of(std::process::id(), None)
}

/// A duration spent over a window, per message counted in it (µs).
pub fn per_message(spent: Duration, messages: usize) -> f64 {
    spent.as_secs_f64() * 1e6 / messages.max(1) as f64
}
