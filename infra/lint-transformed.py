"""Lints infra/template.yaml after the SAM transform, offline.

cfn-lint skips some rules on templates that carry the AWS::Serverless transform (for
instance W3037, which checks that IAM actions exist), and `sam validate --lint` runs the
same cfn-lint. This script expands the template locally with the SAM translator that
aws-sam-cli installs (no AWS call, no credentials), then lints the plain CloudFormation.

Run it with the Python of the environment of requirements-sam.txt:

    ~/.cache/agent-console/infra-sam/bin/python infra/lint-transformed.py [infra/template.yaml]

Exit status: cfn-lint's (0 when clean).
"""

import json
import os
import pathlib
import sys
import tempfile

# The translator needs a region for its pseudo parameters; any region will do.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from cfnlint.runner import main as cfn_lint  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


class _NoManagedPolicyLookup:
    """The template names managed policies by ARN or Ref, never by bare name."""

    def load(self):
        return {}


def main() -> int:
    source = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).with_name("template.yaml"))
    template = yaml_parse(source.read_text())
    # `sam package` replaces the local CodeUri by an S3 location; do the same with a
    # placeholder so that the translator accepts the functions.
    template.get("Globals", {}).get("Function", {})["CodeUri"] = "s3://placeholder-bucket/code.zip"
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in resource.get("Properties", {}):
            resource["Properties"]["CodeUri"] = "s3://placeholder-bucket/code.zip"
    expanded = transform(template, {}, _NoManagedPolicyLookup())
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp, "template.json")
        path.write_text(json.dumps(expanded, indent=1))
        # W2001 (unused parameter) is checked on the source template: the translator
        # resolves some parameters away (Tracing), which would read as unused here.
        sys.argv = ["cfn-lint", "--ignore-checks", "W2001", "--", str(path)]
        try:
            cfn_lint()
        except SystemExit as done:
            return int(done.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
