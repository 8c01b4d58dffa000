//! The open-file limit: every socket is a file descriptor at both ends — the client end
//! in this process, the server end in the server's, which inherits this process's limit.

use rlimit::Resource;

/// Descriptors each process needs beside one per agent's socket: the store, the
/// listener, HTTP requests under way, the runtime, standard streams.
const SPARE: u64 = 256;

/// The open-file limit of this process, after raising it.
#[derive(Debug, Clone, Copy)]
pub struct OpenFiles {
    /// The soft limit found at start.
    pub before: u64,
    /// The soft limit now (the hard limit, if it could be raised).
    pub soft: u64,
    pub hard: u64,
}

impl OpenFiles {
    /// Raises the soft limit of open files to the hard limit, before any server is
    /// spawned (each inherits it).
    pub fn raise() -> std::io::Result<OpenFiles> {
        let (before, hard) = Resource::NOFILE.get()?;
        if before < hard {
            Resource::NOFILE.set(hard, hard)?;
        }
        let (soft, hard) = Resource::NOFILE.get()?;
        Ok(OpenFiles { before, soft, hard })
    }

    /// The most agents (a multiple of `step`) that can each hold a socket open, up to
    /// `wanted`.
    pub fn agents_that_fit(&self, wanted: usize, step: usize) -> usize {
        let room = self.soft.saturating_sub(SPARE) as usize;
        wanted.min(room / step * step)
    }
}
