//! Running programs with a heading per step and a clear failure, in the environment
//! `tools` prepares ([`Env`]).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Fails the command with a message.
pub fn fail<T>(message: impl Into<String>) -> Result<T, String> {
    Err(message.into())
}

/// One step: a heading, a program and its arguments.
#[derive(Debug)]
pub struct Step {
    title: String,
    command: Option<Command>,
    env: Vec<(OsString, OsString)>,
    /// Print how long it took (not after the last step: the test runner's summary
    /// must be the closing line).
    timed: bool,
}

impl Step {
    pub fn new(title: &str) -> Self {
        Step {
            title: title.to_owned(),
            command: None,
            env: Vec::new(),
            timed: true,
        }
    }

    /// Prints nothing after the program's own output.
    pub fn untimed(mut self) -> Self {
        self.timed = false;
        self
    }

    /// Runs `program`.
    pub fn program(mut self, program: &Path) -> Self {
        self.command = Some(Command::new(program));
        self
    }

    /// Runs cargo with `args`, in the workspace, with the shared target folder and tools.
    pub fn cargo<I, S>(self, env: &Env, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        self.program(Path::new(&cargo)).env_all(env).args(args)
    }

    /// Sets the environment every step shares: PATH with our tools first, the target
    /// folder, the workspace as working directory.
    pub fn env_all(mut self, env: &Env) -> Self {
        if let Some(command) = self.command.as_mut() {
            command
                .current_dir(&env.root)
                .env("PATH", &env.path)
                .env("CARGO_TARGET_DIR", &env.target_dir);
        }
        self
    }

    /// Runs in `dir` instead of the workspace.
    pub fn dir(mut self, dir: &Path) -> Self {
        if let Some(command) = self.command.as_mut() {
            command.current_dir(dir);
        }
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        if let Some(command) = self.command.as_mut() {
            command.args(args);
        }
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.env.push((key.into(), value.as_ref().to_owned()));
        self
    }

    /// Runs the step; a non-zero exit fails with the step's title.
    pub fn run(self) -> Result<(), String> {
        let Some(mut command) = self.command else {
            return fail(format!("{}: nothing to run", self.title));
        };
        for (key, value) in &self.env {
            command.env(key, value);
        }
        println!("\n==> {}", self.title);
        let started = Instant::now();
        let status = command.status().map_err(|e| {
            format!(
                "{}: cannot start {:?}: {e}",
                self.title,
                command.get_program()
            )
        })?;
        if status.success() {
            if self.timed {
                println!("    ({:.0?})", started.elapsed());
            }
            Ok(())
        } else {
            fail(format!("{} failed ({status})", self.title))
        }
    }
}

/// Runs a program quietly and returns its standard output, if it ran and succeeded.
pub fn output_of(program: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Where everything is, once prepared.
#[derive(Debug)]
pub struct Env {
    pub root: PathBuf,
    /// The cache folder of tools and virtual environments.
    pub cache: PathBuf,
    pub target_dir: PathBuf,
    /// PATH with our tools first.
    pub path: OsString,
    pub trunk: PathBuf,
    pub wasm_bindgen_test_runner: PathBuf,
    pub chromedriver: PathBuf,
    pub chromium: PathBuf,
    /// terser, the JavaScript minifier (from npm) of the console's glue.
    pub terser: PathBuf,
    /// axe-core's script, for the accessibility audit in the browser tests.
    pub axe_core: PathBuf,
    /// moto's server, the DynamoDB emulator of the store tests.
    pub moto_server: PathBuf,
}
