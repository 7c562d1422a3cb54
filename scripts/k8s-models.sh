#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Installs the pinned schema packages the manifest tests validate deploy/kubernetes/ against
# (tests/kubernetes/validate_manifests.mjs) from the npm registry into a cache directory, once,
# and prints the node_modules directory. FCGIMUX_K8S_MODELS_CACHE overrides where.
set -euo pipefail
packages=(kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0 @kubernetes-models/prometheus-operator@6.0.0)
key=$(printf '%s\n' "${packages[@]}" | sha256sum | cut -c1-12)
dir=${FCGIMUX_K8S_MODELS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fcgimux/k8s-models-$key}
if [[ ! -f $dir/.complete ]]; then
  mkdir -p "$dir"
  # A private lock: two test runs at once install once.
  exec 9>"$dir/.lock"
  flock 9
  if [[ ! -f $dir/.complete ]]; then
    npm install --no-audit --no-fund --no-save --loglevel=error --prefix "$dir" "${packages[@]}" >&2
    touch "$dir/.complete"
  fi
fi
echo "$dir/node_modules"
