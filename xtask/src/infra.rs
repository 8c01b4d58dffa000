//! The AWS side: the Python tools of `infra/` (SAM CLI, cfn-lint, checkov, cargo-lambda,
//! the AWS CLI) in virtual environments of their own, the template checks, the arm64
//! builds of the Lambda functions, and the deployment.

use crate::shell::{Step, fail, output_of};
use crate::tools::Env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const ARM_TARGET: &str = "aarch64-unknown-linux-gnu";

/// The infra tools, once installed.
#[derive(Debug)]
pub struct Tools {
    /// The `bin` folders of the virtual environments.
    bins: Vec<PathBuf>,
    /// The shared PATH.
    base_path: OsString,
}

impl Tools {
    /// The installed program `name`.
    pub fn program(&self, name: &str) -> Result<PathBuf, String> {
        self.bins
            .iter()
            .map(|bin| bin.join(name))
            .find(|path| path.exists())
            .ok_or_else(|| format!("{name} is not installed by infra/requirements*.txt"))
    }

    /// PATH for running `name`: its environment's `bin` first (so that its `python3` is
    /// the one with its packages — cargo-lambda finds its zig that way), then the shared
    /// PATH.
    pub fn path_for(&self, name: &str) -> Result<OsString, String> {
        let program = self.program(name)?;
        let mut paths: Vec<PathBuf> = program.parent().map(PathBuf::from).into_iter().collect();
        paths.extend(std::env::split_paths(&self.base_path));
        std::env::join_paths(paths).map_err(|e| format!("bad PATH: {e}"))
    }
}

/// Installs every `infra/requirements*.txt` into a virtual environment of its own under
/// the cache (`infra-<name>`), again only when the file changed.
pub fn prepare(env: &Env) -> Result<Tools, String> {
    let infra = env.root.join("infra");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&infra)
        .map_err(|e| format!("cannot read {}: {e}", infra.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("requirements") && n.ends_with(".txt"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return fail("no infra/requirements*.txt to install the infra tools from");
    }
    let mut bins = Vec::new();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("requirements");
        let venv = env.cache.join(format!(
            "infra-{}",
            stem.trim_start_matches("requirements-")
        ));
        ensure_venv(&venv, &file)?;
        bins.push(venv.join("bin"));
    }
    Ok(Tools {
        bins,
        base_path: env.path.clone(),
    })
}

/// A virtual environment holding exactly what `requirements` pins.
fn ensure_venv(venv: &Path, requirements: &Path) -> Result<(), String> {
    let wanted = std::fs::read_to_string(requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let stamp = venv.join(".installed-requirements");
    if std::fs::read_to_string(&stamp).is_ok_and(|installed| installed == wanted) {
        return Ok(());
    }
    let pip = venv.join("bin").join("pip");
    if !pip.exists() {
        Step::new(&format!(
            "Creating a Python virtual environment in {}",
            venv.display()
        ))
        .program(Path::new("python3"))
        .args([OsString::from("-m"), "venv".into(), venv.as_os_str().into()])
        .run()
        .map_err(|e| format!("{e}; Python 3 with its venv module is needed"))?;
    }
    let name = requirements
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Step::new(&format!(
        "Installing the infra tools of infra/{name} from PyPI"
    ))
    .program(&pip)
    .args([
        OsString::from("install"),
        "--quiet".into(),
        "--disable-pip-version-check".into(),
        "-r".into(),
        requirements.as_os_str().into(),
    ])
    .run()?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// The template checks: cfn-lint, `sam validate --lint`, checkov — all offline.
pub fn check(env: &Env, tools: &Tools) -> Result<(), String> {
    let template = Path::new("infra").join("template.yaml");
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    Step::new("Checking the SAM template (cfn-lint)")
        .program(&tools.program("cfn-lint")?)
        .env_all(env)
        .args([template.as_os_str()])
        .run()?;
    Step::new("Checking the SAM template (sam validate --lint)")
        .program(&tools.program("sam")?)
        .env_all(env)
        .args([
            OsString::from("validate"),
            "--lint".into(),
            "--template-file".into(),
            template.clone().into(),
        ])
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_REGION", &region)
        .env("AWS_DEFAULT_REGION", &region)
        .run()?;
    Step::new("Checking the SAM template after the SAM transform (cfn-lint, IAM actions too)")
        // The Python of the SAM CLI's environment, which has the SAM translator.
        .program(&tools.program("sam")?.with_file_name("python3"))
        .env_all(env)
        .args([
            Path::new("infra").join("lint-transformed.py"),
            template.clone(),
        ])
        .env("AWS_DEFAULT_REGION", &region)
        .run()?;
    Step::new("Checking the SAM template (checkov, every finding fixed or justified)")
        .program(&tools.program("checkov")?)
        .env_all(env)
        .args([
            OsString::from("--quiet"),
            "--compact".into(),
            "--skip-download".into(),
            "--framework".into(),
            "cloudformation".into(),
            "--file".into(),
            template.into(),
        ])
        .run()
}

pub fn ensure_arm_target() -> Result<(), String> {
    let installed =
        output_of(Path::new("rustup"), &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == ARM_TARGET) {
        return Ok(());
    }
    Step::new(&format!("Adding the Rust target {ARM_TARGET} (rustup)"))
        .program(Path::new("rustup"))
        .args(["target", "add", ARM_TARGET])
        .run()
}

/// Builds the Lambda functions' bootstraps for arm64 (cargo-lambda, with its bundled
/// zig as the linker) and prints their sizes.
pub fn build_functions(env: &Env, tools: &Tools) -> Result<(), String> {
    ensure_arm_target()?;
    Step::new("Building the Lambda functions for arm64 (cargo lambda build --release --arm64)")
        .cargo(
            env,
            [
                "lambda",
                "build",
                "--release",
                "--arm64",
                "--package",
                "console-lambdas",
            ],
        )
        .env("PATH", tools.path_for("cargo-lambda")?)
        .run()?;
    let lambda = env.target_dir.join("lambda");
    for binary in [
        "http-api",
        "websocket",
        "authorizer",
        "import-directory",
        "sweeper",
    ] {
        let bootstrap = lambda.join(binary).join("bootstrap");
        let size = std::fs::metadata(&bootstrap)
            .map_err(|e| format!("{} was not built: {e}", bootstrap.display()))?
            .len();
        println!(
            "    {binary}: {:.1} MB ({})",
            size as f64 / 1e6,
            bootstrap.display()
        );
    }
    Ok(())
}
