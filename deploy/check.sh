#!/usr/bin/env bash
# Offline checks of deploy/: no cluster, no container engine.
#
#   deploy/check.sh        (after cargo build --bin scopegate; SCOPEGATE_BIN overrides)
#
# 1. `kubectl kustomize` builds deploy/overlays/sidecar, deploy/overlays/fleet
#    and deploy/monitoring;
# 2. deploy/check_manifests.py (in a venv under target/deploy/venv with
#    kubernetes-validate, installed from deploy/requirements.txt only when it
#    changes): every resource validates against Kubernetes $K8S_VERSION's
#    schemas, strictly; the PodMonitor against a subset of its CRD schema; the
#    mounted config passes `scopegate check-config` with each pod's
#    environment; pod security, probes, shutdown budget, exposure, monitoring
#    selectors and the dashboard's metric names;
# 3. deploy/lint_dockerfile.py (with its self-test) on deploy/Dockerfile;
# 4. the Docker build context (.dockerignore applied) holds what
#    `cargo build --locked` needs: `cargo metadata --locked --offline` in a copy.
#
# Every step runs under `timeout`; exits non-zero on any failure.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
OUT="$REPO/target/deploy"
VENV="$OUT/venv"
STAMP="$VENV/.requirements.sha256"
K8S_VERSION="1.33.0"
SCOPEGATE_BIN="${SCOPEGATE_BIN:-$REPO/target/debug/scopegate}"
export PYTHONDONTWRITEBYTECODE=1  # keep the source tree clean

passed=0
failed=0
step() {  # step NAME COMMAND...: runs it, counts it
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "deploy: ok   $name"
  else
    failed=$((failed + 1))
    echo "deploy: FAIL $name" >&2
  fi
}

if ! command -v kubectl >/dev/null; then
  echo "deploy/check.sh: kubectl not found (it comes with the machine's google-cloud-cli)" >&2
  exit 2
fi
if [[ ! -x "$SCOPEGATE_BIN" ]]; then
  echo "deploy/check.sh: scopegate binary not found: $SCOPEGATE_BIN (run: cargo build --bin scopegate)" >&2
  exit 2
fi
mkdir -p "$OUT"

# --- the venv, reinstalled only when requirements.txt changes --------------
want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ ! -x "$VENV/bin/python" || "$want" != "$have" ]]; then
  echo "deploy: installing deploy/requirements.txt into $VENV" >&2
  rm -rf "$VENV"
  timeout 60 python3 -m venv "$VENV"
  timeout 300 "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$HERE/requirements.txt"
  echo "$want" >"$STAMP"
fi

# --- 1. render ---------------------------------------------------------------
render() {  # render NAME DIR
  timeout 60 kubectl kustomize "$REPO/$2" >"$OUT/$1.yaml"
}
step "kubectl kustomize deploy/overlays/sidecar" render sidecar deploy/overlays/sidecar
step "kubectl kustomize deploy/overlays/fleet" render fleet deploy/overlays/fleet
step "kubectl kustomize deploy/monitoring" render monitoring deploy/monitoring

# --- 2. the rendered manifests -----------------------------------------------
step "check_manifests.py (schemas, check-config, pod policy, exposure, monitoring, dashboard)" \
  timeout 120 "$VENV/bin/python" "$HERE/check_manifests.py" \
  --k8s-version "$K8S_VERSION" --scopegate "$SCOPEGATE_BIN" \
  --metrics "$REPO/src/metrics.rs" --dashboard "$HERE/monitoring/grafana-dashboard.json" \
  sidecar="$OUT/sidecar.yaml" fleet="$OUT/fleet.yaml" monitoring="$OUT/monitoring.yaml"

# --- 3. the Dockerfile ---------------------------------------------------------
step "lint_dockerfile.py --self-test deploy/Dockerfile" \
  timeout 30 python3 "$HERE/lint_dockerfile.py" --self-test "$HERE/Dockerfile"

# --- 4. the build context --------------------------------------------------------
context() {
  local dir
  dir="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$dir'" RETURN
  timeout 60 python3 "$HERE/docker_context.py" "$REPO" "$dir" &&
    (cd "$dir" && timeout 60 cargo metadata --locked --offline --format-version 1 >/dev/null)
}
step "the .dockerignore'd build context resolves with cargo --locked" context

echo "deploy: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
