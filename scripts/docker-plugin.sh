#!/usr/bin/env bash
# Builds onedigest's Docker provider plugin (plugins/docker: Pulumi's Terraform bridge over
# kreuzwerker's Terraform Docker provider, plus a native docker:index/image:Image) and installs it
# into PULUMI_HOME as resource-docker v5.2.0.
#
#   bash scripts/docker-plugin.sh PULUMI_HOME
#
# Everything comes from the Go module proxy through the go command. The build is cached in
# ONEDIGEST_CACHE (default ~/.cache/onedigest) under a hash of everything that goes into it: the
# plugin's sources, go.mod and go.sum, the upstream module's version and the Go toolchain. A warm
# run (same hash, plugin already installed) only checks and prints.
set -euo pipefail

home=${1:?usage: docker-plugin.sh PULUMI_HOME}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/plugins/docker
cache=${ONEDIGEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onedigest}
version=v5.2.0
# kreuzwerker/terraform-provider-docker is served by the proxy only as a pseudo-version; its go.mod
# names it github.com/terraform-providers/terraform-provider-docker.
upstream_module=github.com/kreuzwerker/terraform-provider-docker
upstream_version=v0.0.0-20260916201441-96d331c98ff4

log() { printf '[docker-plugin] %s\n' "$*" >&2; }
die() { printf '[docker-plugin] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "no Go toolchain on PATH (install Go 1.25+; the plugin is built from the Go module proxy)"
command -v pulumi >/dev/null || die "no pulumi CLI on PATH"

t0=$(date +%s)
key=$(
  {
    go version
    echo "$upstream_module@$upstream_version"
    (cd "$src" && find . -type f ! -name '*_test.go' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
)
out=$cache/docker-plugin-$key
installed=$home/plugins/resource-docker-$version

if [ -f "$installed/.onedigest-build" ] && [ "$(cat "$installed/.onedigest-build")" = "$key" ] && [ -x "$installed/pulumi-resource-docker" ]; then
  log "resource-docker $version ($key) already installed in $home ($(( $(date +%s) - t0 )) s)"
  exit 0
fi

if [ ! -f "$out/.complete" ]; then
  log "building resource-docker $version ($key); a cold build takes several minutes"
  build=$cache/docker-plugin-build
  rm -rf "$build" "$out.tmp"
  mkdir -p "$build" "$out.tmp"
  cp -r "$src/." "$build/"
  # The provider lives in the module's internal/provider package, which only that module may import:
  # a copy of the downloaded module gains one package of ours that re-exports its constructor.
  dir=$(cd "$build" && GOFLAGS=-mod=mod go mod download -json "$upstream_module@$upstream_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || die "could not download $upstream_module@$upstream_version"
  cp -r "$dir" "$build/upstream"
  chmod -R u+w "$build/upstream"
  mkdir -p "$build/upstream/export"
  cp "$src/upstream-shim/export.go.in" "$build/upstream/export/export.go"
  (
    cd "$build"
    # no_compose leaves out the docker_compose resource (no SDK type maps it; it needs cgo).
    CGO_ENABLED=0 go build -tags no_compose -trimpath -ldflags "-s -w" -o "$out.tmp/pulumi-resource-docker" .
    "$out.tmp/pulumi-resource-docker" tfgen schema --out "$out.tmp" --skip-docs --skip-examples >"$out.tmp/tfgen.log" 2>&1 ||
      { cat "$out.tmp/tfgen.log" >&2; exit 1; }
  ) || die "the build failed (see above)"
  rm -f "$out.tmp/tfgen.log" "$out.tmp/Pulumi.yaml"
  [ -s "$out.tmp/schema.json" ] && [ -s "$out.tmp/bridge-metadata.json" ] || die "tfgen wrote no schema"
  touch "$out.tmp/.complete"
  rm -rf "$out" && mv "$out.tmp" "$out"
  rm -rf "$build"
  # Earlier builds of other inputs are not used again.
  find "$cache" -maxdepth 1 -name 'docker-plugin-*' ! -name "docker-plugin-$key" -exec rm -rf {} +
  log "built in $(( $(date +%s) - t0 )) s: $out"
fi

PULUMI_HOME=$home pulumi plugin install resource docker "$version" --file "$out" --reinstall >/dev/null
echo "$key" >"$installed/.onedigest-build"
log "resource-docker $version ($key) installed in $home ($(( $(date +%s) - t0 )) s)"
