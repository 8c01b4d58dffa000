//! Installing what the commands need, from the package registries only, into a cache
//! folder outside the clone (`$AGENT_CONSOLE_CACHE`, default `~/.cache/agent-console`).
//! Each tool is checked first and installed only when missing or of the wrong version.
//! The versions are those of `../shared/TOOLCHAIN.md`.

pub use crate::shell::Env;
use crate::shell::{Step, fail, output_of};
use std::path::{Path, PathBuf};

const TRUNK_VERSION: &str = "0.21.14";
const BINARYEN_VERSION: &str = "132.0.0";
const AXE_CORE_VERSION: &str = "4.14.1";
const TERSER_VERSION: &str = "5.51.2";
const MOTO_VERSION: &str = "5.2.5";
const CARGO_FUZZ_VERSION: &str = "0.13.2";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("AGENT_CONSOLE_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").ok_or("HOME is not set; set AGENT_CONSOLE_CACHE")?;
    Ok(PathBuf::from(home).join(".cache").join("agent-console"))
}

/// Installs what is missing and returns the environment for the steps. With `for_tests`,
/// also Chromium and chromedriver.
pub fn prepare(root: &Path, for_tests: bool) -> Result<Env, String> {
    let cache = cache_dir()?;
    let tools = cache.join("tools");
    let bin = tools.join("bin");
    let npm_prefix = tools.join("npm");
    let npm_bin = npm_prefix.join("node_modules").join(".bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("cannot create {}: {e}", bin.display()))?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache.join("target"));
    let mut paths = vec![npm_bin.clone(), bin.clone()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(paths).map_err(|e| format!("bad PATH: {e}"))?;
    println!(
        "==> Tools in {}, build output in {}",
        tools.display(),
        target_dir.display()
    );

    ensure_wasm_target()?;
    let wasm_bindgen_version = locked_version(root, "wasm-bindgen")?;
    ensure_cargo_tool(&bin, "trunk", "trunk", TRUNK_VERSION, true)?;
    ensure_cargo_tool(
        &bin,
        "wasm-bindgen",
        "wasm-bindgen-cli",
        &wasm_bindgen_version,
        false,
    )?;
    ensure_npm_tools(&npm_prefix, &npm_bin)?;
    let (chromium, chromedriver) = if for_tests {
        ensure_chromium()?
    } else {
        (
            PathBuf::from("/usr/bin/chromium"),
            PathBuf::from("/usr/bin/chromedriver"),
        )
    };
    let venv = cache.join("venv");
    if for_tests {
        ensure_moto(&venv)?;
        ensure_cargo_tool(&bin, "cargo-fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION, true)?;
    }
    let env = Env {
        root: root.to_path_buf(),
        cache: cache.clone(),
        target_dir,
        path,
        trunk: bin.join("trunk"),
        wasm_bindgen_test_runner: bin.join("wasm-bindgen-test-runner"),
        terser: npm_bin.join("terser"),
        chromedriver,
        chromium,
        axe_core: npm_prefix
            .join("node_modules")
            .join("axe-core")
            .join("axe.min.js"),
        moto_server: venv.join("bin").join("moto_server"),
    };
    // Trunk builds offline (it must never download): fetch every crate first.
    Step::new("Fetching crates (cargo fetch)")
        .cargo(&env, ["fetch"])
        .run()?;
    Ok(env)
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed =
        output_of(Path::new("rustup"), &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    Step::new("Installing the wasm32 target (rustup)")
        .program(Path::new("rustup"))
        .args(["target", "add", WASM_TARGET])
        .run()
        .map_err(|e| format!("{e}; the console needs the {WASM_TARGET} target of this toolchain"))
}

/// The version of a package in Cargo.lock.
fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let needle = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle
            && let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return Ok(version.trim_matches('"').to_owned());
        }
    }
    fail(format!("{package} is not in Cargo.lock"))
}

fn ensure_cargo_tool(
    bin: &Path,
    program: &str,
    package: &str,
    version: &str,
    locked: bool,
) -> Result<(), String> {
    let path = bin.join(program);
    let found = output_of(&path, &["--version"]).unwrap_or_default();
    if found.split_whitespace().nth(1) == Some(version) {
        return Ok(());
    }
    let root = bin.parent().unwrap_or(bin);
    let mut args = vec!["install", package, "--version", version, "--root"];
    let root_text = root.to_string_lossy().into_owned();
    args.push(&root_text);
    if locked {
        args.push("--locked");
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut step = Step::new(&format!(
        "Installing {package} {version} from crates.io (once; several minutes)"
    ))
    .program(Path::new(&cargo))
    .args(args);
    // Build in cargo's own temporary folder, not the project's target folder.
    step = step.env(
        "CARGO_TARGET_DIR",
        std::env::temp_dir().join(format!("agent-console-install-{package}")),
    );
    step.run()
}

/// wasm-opt (binaryen) for Trunk, terser for the console's JS glue and axe-core for the
/// accessibility audit, from npm.
fn ensure_npm_tools(prefix: &Path, npm_bin: &Path) -> Result<(), String> {
    let found = output_of(&npm_bin.join("wasm-opt"), &["--version"]).unwrap_or_default();
    let major = BINARYEN_VERSION.split('.').next().unwrap_or_default();
    let has = |package: &str, version: &str| {
        let manifest = prefix
            .join("node_modules")
            .join(package)
            .join("package.json");
        std::fs::read_to_string(manifest)
            .unwrap_or_default()
            .contains(&format!("\"version\": \"{version}\""))
    };
    if found.contains(&format!("version {major}"))
        && has("axe-core", AXE_CORE_VERSION)
        && has("terser", TERSER_VERSION)
    {
        return Ok(());
    }
    std::fs::create_dir_all(prefix)
        .map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    let prefix_text = prefix.to_string_lossy().into_owned();
    Step::new(&format!(
        "Installing wasm-opt (binaryen {BINARYEN_VERSION}), terser {TERSER_VERSION} and axe-core {AXE_CORE_VERSION} from npm"
    ))
    .program(Path::new("npm"))
    .args([
        "install",
        "--prefix",
        &prefix_text,
        "--no-audit",
        "--no-fund",
        &format!("binaryen@{BINARYEN_VERSION}"),
        &format!("terser@{TERSER_VERSION}"),
        &format!("axe-core@{AXE_CORE_VERSION}"),
    ])
    .run()
    .map_err(|e| format!("{e}; wasm-opt comes from npm (Node.js and npm must be installed)"))
}

fn ensure_chromium() -> Result<(PathBuf, PathBuf), String> {
    let chromium =
        PathBuf::from(std::env::var_os("CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into()));
    let driver = PathBuf::from(
        std::env::var_os("CHROMEDRIVER").unwrap_or_else(|| "/usr/bin/chromedriver".into()),
    );
    if chromium.exists() && driver.exists() {
        return Ok((chromium, driver));
    }
    let is_root = output_of(Path::new("id"), &["-u"]).is_some_and(|uid| uid.trim() == "0");
    if !is_root {
        return fail(
            "Chromium and chromedriver are missing: run `sudo apt-get install -y chromium chromium-driver` \
             (or set CHROMIUM and CHROMEDRIVER), then run this again",
        );
    }
    Step::new("Updating Debian's package lists (apt-get update)")
        .program(Path::new("apt-get"))
        .args(["update", "-q"])
        .run()?;
    Step::new("Installing Chromium and chromedriver (Debian packages)")
        .program(Path::new("apt-get"))
        .args([
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
    Ok((chromium, driver))
}

/// moto's server (the DynamoDB emulator) in a virtual environment of its own.
fn ensure_moto(venv: &Path) -> Result<(), String> {
    let pip = venv.join("bin").join("pip");
    let installed = output_of(&pip, &["show", "moto"]).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == format!("Version: {MOTO_VERSION}"))
        && venv.join("bin").join("moto_server").exists()
    {
        return Ok(());
    }
    if !pip.exists() {
        let venv_text = venv.to_string_lossy().into_owned();
        Step::new("Creating a Python virtual environment for the DynamoDB emulator")
            .program(Path::new("python3"))
            .args(["-m", "venv", &venv_text])
            .run()
            .map_err(|e| format!("{e}; Python 3 with its venv module is needed"))?;
    }
    Step::new(&format!(
        "Installing the DynamoDB emulator (moto[server] {MOTO_VERSION}) from PyPI"
    ))
    .program(&pip)
    .args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("moto[server]=={MOTO_VERSION}"),
    ])
    .run()
}

/// True when cargo-nextest is installed.
pub fn has_nextest(env: &Env) -> bool {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    std::process::Command::new(cargo)
        .args(["nextest", "--version"])
        .env("PATH", &env.path)
        .output()
        .is_ok_and(|output| output.status.success())
}
