#!/usr/bin/env bash
# In the deploy workflow, after `pulumi up` of the build stack: each registry copy the stack
# deploys (`pulumi stack output deployments`, every `repo@sha256:…`) signed keyless with this
# workflow's OIDC identity, given a CycloneDX SBOM attestation that syft takes from that copy, and
# verified again as prod's `onedigest:image.signedBy` will verify it. Heroku's registry cannot hold
# a signature (Docker v2 image manifests only): its copy is skipped; its twin with the same image ID
# in Artifact Registry is the one checked. The SBOMs are written to DIR for the pipeline's artifact.
#
#   bash scripts/sign-stack.sh STACK DIR
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: sign-stack.sh STACK DIR" >&2; exit 2; }
stack=$1 dir=$2
mkdir -p "$dir"
heroku_host=$(python3 -c 'import os, urllib.parse; print(urllib.parse.urlparse(os.environ.get("HEROKU_REGISTRY_URL", "https://registry.heroku.com")).netloc)')
identity="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}/.github/workflows/deploy.yml@${GITHUB_REF:?}"
issuer=https://token.actions.githubusercontent.com
refs=$(pulumi stack output deployments --json --stack "$stack" |
  python3 -c 'import json, sys; print("\n".join(f"{k} {v[\"image\"]}" for k, v in json.load(sys.stdin).items() if "@sha256:" in v.get("image", "")))')
[ -n "$refs" ] || { echo "sign-stack: $stack exports no registry image" >&2; exit 1; }
signed=0
while read -r target ref; do
  if [ "${ref%%/*}" = "$heroku_host" ]; then
    echo "sign-stack: $target: $ref not signed: Heroku's registry cannot hold a signature (its twin in another registry is)"
    continue
  fi
  # Artifact Registry: cosign and syft log in through gcloud's Docker credential helper, which
  # uses the workflow's Google login (google-github-actions/auth).
  if [[ "${ref%%/*}" == *-docker.pkg.dev ]] && command -v gcloud >/dev/null; then gcloud auth configure-docker "${ref%%/*}" --quiet; fi
  sbom="$dir/$stack-$target.cdx.json"
  syft scan "registry:$ref" -o "cyclonedx-json=$sbom" -q
  cosign sign --yes "$ref"
  cosign attest --yes --type cyclonedx --predicate "$sbom" "$ref"
  cosign verify --certificate-identity "$identity" --certificate-oidc-issuer "$issuer" "$ref" >/dev/null
  echo "sign-stack: $target: $ref signed by $identity, SBOM $sbom attested"
  signed=$((signed + 1))
done <<<"$refs"
[ "$signed" -gt 0 ] || { echo "sign-stack: $stack has no copy in a registry that can hold a signature" >&2; exit 1; }
