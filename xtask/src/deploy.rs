//! `cargo xtask deploy`: the whole stack on AWS with the deployer's credentials — the
//! console built, the functions built for arm64 and deployed with the SAM template, the
//! console published beside a `config.json` naming the deployed APIs and user pool.
//! `cargo xtask publish`: that last step alone, for a stack deployed with plain `sam
//! deploy`.

use crate::infra::{self, Tools};
use crate::shell::{Step, fail};
use crate::tools::Env;
use std::process::Command;

pub const USAGE: &str = "deploy [--stack-name NAME] [--region REGION] [--guided]
                                           deploy to AWS (see docs/deploying.md)
  publish [--stack-name NAME] [--region REGION]
                                           publish the console to a deployed stack";

#[derive(Debug)]
struct Options {
    stack: String,
    region: Option<String>,
    guided: bool,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        stack: "agent-console".into(),
        region: None,
        guided: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stack-name" => {
                options.stack = args.next().ok_or("--stack-name needs a name")?.clone()
            }
            "--region" => {
                options.region = Some(args.next().ok_or("--region needs a region")?.clone())
            }
            "--guided" => options.guided = true,
            other => {
                return fail(format!(
                    "unknown option {other}\nusage: cargo xtask {USAGE}"
                ));
            }
        }
    }
    Ok(options)
}

pub fn deploy(env: &Env, args: &[String]) -> Result<(), String> {
    let options = options(args)?;
    let tools = infra::prepare(env)?;
    crate::build_console(env)?;
    let infra_dir = env.root.join("infra");
    infra::ensure_arm_target()?;
    Step::new("Building the functions for arm64 (sam build, cargo-lambda)")
        .program(&tools.program("sam")?)
        .env_all(env)
        .dir(&infra_dir)
        .args(["build", "--template-file", "template.yaml"])
        .env("PATH", tools.path_for("sam")?)
        .env("SAM_CLI_TELEMETRY", "0")
        .run()?;
    let mut deploy = vec![
        "deploy".to_owned(),
        "--stack-name".into(),
        options.stack.clone(),
    ];
    deploy.extend(region_args(&options));
    if options.guided {
        deploy.push("--guided".into());
    }
    Step::new("Deploying the stack (sam deploy)")
        .program(&tools.program("sam")?)
        .env_all(env)
        .dir(&infra_dir)
        .args(&deploy)
        .env("PATH", tools.path_for("sam")?)
        .env("SAM_CLI_TELEMETRY", "0")
        .run()?;
    publish_built(env, &tools, &options)
}

/// `cargo xtask publish`: builds the console and publishes it to a stack deployed
/// already (by `sam deploy`, say).
pub fn publish(env: &Env, args: &[String]) -> Result<(), String> {
    let options = options(args)?;
    if options.guided {
        return fail("publish takes no --guided: the stack is deployed already");
    }
    let tools = infra::prepare(env)?;
    crate::build_console(env)?;
    publish_built(env, &tools, &options)
}

fn region_args(options: &Options) -> Vec<String> {
    options
        .region
        .iter()
        .flat_map(|region| ["--region".to_owned(), region.clone()])
        .collect()
}

/// Publishes the built console (`dist/`) to the stack: its `config.json` from the
/// stack's outputs, then the files in the safe order of [`publication`].
fn publish_built(env: &Env, tools: &Tools, options: &Options) -> Result<(), String> {
    let region_args = region_args(options);
    let output = |key: &str| stack_output(tools, options, &region_args, key);
    let console_url = output("ConsoleUrl")?;
    let cognito = output("CognitoDomainUrl")?;
    let config = format!(
        r#"{{
  "api": "{}",
  "websocket": "{}",
  "sign_in": {{
    "kind": "oidc",
    "authorize_url": "{cognito}/oauth2/authorize",
    "token_url": "{cognito}/oauth2/token",
    "client_id": "{}",
    "scope": "openid email profile",
    "logout_url": "{cognito}/logout"
  }}
}}
"#,
        output("HttpApiUrl")?,
        output("WebSocketUrl")?,
        output("UserPoolClientId")?,
    );
    let dist = env.root.join("dist");
    std::fs::write(dist.join("config.json"), config)
        .map_err(|e| format!("cannot write dist/config.json: {e}"))?;

    let bucket = format!("s3://{}", output("ConsoleBucket")?);
    let aws = tools.program("aws")?;
    let upload = |title: &str, args: Vec<String>| {
        Step::new(title)
            .program(&aws)
            .env_all(env)
            .args(args.iter().chain(&region_args))
            .run()
    };
    for (title, args) in publication(&dist, &bucket, &output("DistributionId")?) {
        upload(title, args)?;
    }
    println!(
        "\nThe Agent Console is deployed: {console_url}\n\
         Next: import your directory and create the people who sign in — see\n\
         docs/deploying.md, \"Adding agents\" (user pool {}, import function {}).",
        output("UserPoolId")?,
        output("ImportDirectoryFunction")?,
    );
    Ok(())
}

/// The console's publication, in the order that keeps a page loaded during it whole:
/// the new hashed files first (beside the old ones), then `config.json`, then
/// `index.html` (the page that names the new files), then CloudFront refreshed, and the
/// old files removed last, once nothing names them.
fn publication(
    dist: &std::path::Path,
    bucket: &str,
    distribution: &str,
) -> Vec<(&'static str, Vec<String>)> {
    let dist_text = dist.to_string_lossy().into_owned();
    let assets = |delete: bool| {
        let mut args: Vec<String> = ["s3", "sync", &dist_text, bucket]
            .map(str::to_owned)
            .to_vec();
        if delete {
            args.push("--delete".into());
        }
        args.extend(
            [
                "--exclude",
                "index.html",
                "--exclude",
                "config.json",
                "--cache-control",
                "public,max-age=31536000,immutable",
            ]
            .map(str::to_owned),
        );
        args
    };
    let page = |file: &str| {
        vec![
            "s3".into(),
            "cp".into(),
            dist.join(file).to_string_lossy().into_owned(),
            format!("{bucket}/{file}"),
            "--cache-control".into(),
            "no-cache".into(),
        ]
    };
    vec![
        (
            "Uploading the console's new hashed files (aws s3 sync)",
            assets(false),
        ),
        (
            "Uploading config.json (aws s3 cp, never cached)",
            page("config.json"),
        ),
        (
            "Uploading index.html (aws s3 cp, never cached)",
            page("index.html"),
        ),
        (
            "Refreshing CloudFront (aws cloudfront create-invalidation)",
            vec![
                "cloudfront".into(),
                "create-invalidation".into(),
                "--distribution-id".into(),
                distribution.into(),
                "--paths".into(),
                "/index.html".into(),
                "/config.json".into(),
            ],
        ),
        (
            "Removing the console's old files (aws s3 sync --delete)",
            assets(true),
        ),
    ]
}

/// One output of the deployed stack.
fn stack_output(
    tools: &Tools,
    options: &Options,
    region_args: &[String],
    key: &str,
) -> Result<String, String> {
    let result = Command::new(tools.program("aws")?)
        .args([
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            &options.stack,
            "--query",
            &format!("Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue"),
            "--output",
            "text",
        ])
        .args(region_args)
        .env("PATH", tools.path_for("sam")?)
        .output()
        .map_err(|e| format!("cannot run the AWS CLI: {e}"))?;
    let value = String::from_utf8_lossy(&result.stdout).trim().to_owned();
    if !result.status.success() || value.is_empty() || value == "None" {
        return fail(format!(
            "the stack {} has no output {key}: {}",
            options.stack,
            String::from_utf8_lossy(&result.stderr).trim()
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_to_the_agent_console_stack() {
        let parsed = options(&[]).expect("no options");
        assert_eq!(
            (parsed.stack.as_str(), parsed.guided),
            ("agent-console", false)
        );
        let parsed =
            options(&["--guided".into(), "--region".into(), "eu-west-1".into()]).expect("options");
        assert_eq!(parsed.region.as_deref(), Some("eu-west-1"));
        assert!(options(&["--force".into()]).is_err());
    }

    #[test]
    fn the_console_is_published_new_files_first_its_page_last_and_old_files_removed_after() {
        let calls = publication(std::path::Path::new("/w/dist"), "s3://b", "D1");
        let lines: Vec<String> = calls.iter().map(|(_, args)| args.join(" ")).collect();
        assert_eq!(
            lines,
            [
                "s3 sync /w/dist s3://b --exclude index.html --exclude config.json --cache-control public,max-age=31536000,immutable",
                "s3 cp /w/dist/config.json s3://b/config.json --cache-control no-cache",
                "s3 cp /w/dist/index.html s3://b/index.html --cache-control no-cache",
                "cloudfront create-invalidation --distribution-id D1 --paths /index.html /config.json",
                "s3 sync /w/dist s3://b --delete --exclude index.html --exclude config.json --cache-control public,max-age=31536000,immutable",
            ]
        );
        let deleting: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.contains("--delete"))
            .map(|(at, _)| at)
            .collect();
        assert_eq!(
            deleting,
            [lines.len() - 1],
            "nothing is removed before the last step"
        );
    }
}
