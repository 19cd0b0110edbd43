#!/usr/bin/env python3
"""Checks the rendered deploy/ manifests (run by deploy/check.sh in its venv).

    check_manifests.py --k8s-version 1.33.0 --scopegate target/debug/scopegate \
        --metrics src/metrics.rs --dashboard deploy/monitoring/grafana-dashboard.json \
        sidecar=target/deploy/sidecar.yaml fleet=target/deploy/fleet.yaml \
        monitoring=target/deploy/monitoring.yaml

Each argument NAME=FILE is the output of `kubectl kustomize` for one overlay.
Checks, each printed as `ok` or `FAIL`:

- schema: every resource validates against the pinned Kubernetes version's
  schemas (kubernetes-validate, strict: unknown fields are errors). The
  Prometheus Operator's PodMonitor has no schema there: it is validated
  against PODMONITOR_SCHEMA below (the subset of the CRD's fields used,
  unknown fields refused), and any other kind without a schema fails;
- config: the ConfigMap mounted as /etc/scopegate/config.toml passes
  `scopegate check-config` with the container's SCOPEGATE_* environment
  applied (Secret references replaced by placeholders), its key paths
  rewritten from the Secret's mount directory to a temporary one holding
  dummy keys;
- pod: the scopegate container's securityContext, probes on the admin port,
  resources, volume mounts (keys as a directory, never subPath), no service
  links, a termination grace covering preStop + shutdown_grace + 5 s; for a
  sidecar, the main port bound to loopback;
- exposure: no Service reaches the admin port, and a NetworkPolicy admits it
  only from selected peers; the fleet has >= 3 replicas, a Service for the
  API port, a PodDisruptionBudget and a spread constraint;
- monitoring: the PodMonitor selects every scopegate pod template, on a port
  name they declare;
- dashboard: every metric (and every label it groups or filters by) exists in
  src/metrics.rs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

CONFIG_PATH = "/etc/scopegate/config.toml"
SECRET_PLACEHOLDERS = {"SCOPEGATE_BACKEND_URL": "redis://scopegate:placeholder@redis.invalid:6379"}
# Labels Prometheus (Operator) puts on every scraped series, plus the
# PodMonitor's podTargetLabels.
TARGET_LABELS = {"namespace", "pod", "container", "instance", "job", "endpoint", "app_kubernetes_io_name"}

DURATION = r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
LABEL_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "operator"],
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
# monitoring.coreos.com/v1 PodMonitor: the fields of the CRD that
# deploy/monitoring uses or may reasonably use, with the CRD's types; a field
# outside this subset is refused (extend the subset from the CRD if needed).
PODMONITOR_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PodMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector"],
            "properties": {
                "selector": LABEL_SELECTOR,
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "any": {"type": "boolean"},
                        "matchNames": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "jobLabel": {"type": "string"},
                "podTargetLabels": {"type": "array", "items": {"type": "string"}},
                "sampleLimit": {"type": "integer", "minimum": 0},
                "podMetricsEndpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string", "minLength": 1},
                            "portNumber": {"type": "integer", "minimum": 1, "maximum": 65535},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                            "interval": {"type": "string", "pattern": DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": DURATION},
                            "honorLabels": {"type": "boolean"},
                            "params": {"type": "object"},
                            "relabelings": {"type": "array", "items": {"type": "object"}},
                            "metricRelabelings": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                },
            },
        },
    },
}


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, problems: list[str]) -> None:
        if problems:
            self.failed += 1
            print(f"FAIL {name}")
            for problem in problems:
                print(f"     {problem}")
        else:
            self.passed += 1
            print(f"ok   {name}")


def seconds(text: str) -> float:
    """A scopegate duration: 10s, 500ms, 2m, 1h (sums like 1m30s too)."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "day": 86400, "days": 86400}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|days|day|d|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise ValueError(f"cannot read duration {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


# --- the pieces of a rendered overlay ------------------------------------------


def pods(resources: list[dict]) -> list[tuple[dict, dict]]:
    """(workload, pod template spec) of every workload."""
    out = []
    for r in resources:
        if r.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
            out.append((r, r["spec"]["template"]))
    return out


def scopegate_container(spec: dict) -> tuple[dict | None, bool]:
    """The scopegate container and whether it is a native sidecar."""
    for c in spec.get("initContainers", []):
        if c["name"] == "scopegate":
            return c, c.get("restartPolicy") == "Always"
    for c in spec.get("containers", []):
        if c["name"] == "scopegate":
            return c, False
    return None, False


def env_of(container: dict) -> tuple[dict[str, str], list[str]]:
    env, problems = {}, []
    for item in container.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = str(item["value"])
        elif "secretKeyRef" in item.get("valueFrom", {}) and name in SECRET_PLACEHOLDERS:
            env[name] = SECRET_PLACEHOLDERS[name]
        elif name.startswith("SCOPEGATE_"):
            problems.append(f"env {name}: no placeholder for its valueFrom (add one to SECRET_PLACEHOLDERS)")
    if container.get("envFrom"):
        problems.append("envFrom: every SCOPEGATE_ variable should be listed, so it can be checked")
    return env, problems


def mounted_config(resources: list[dict], spec: dict, container: dict) -> tuple[str | None, str | None]:
    """The text mounted at CONFIG_PATH, and the keys mount's directory."""
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    text, keys_dir = None, None
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})
        if mount["mountPath"] == CONFIG_PATH and "configMap" in volume:
            name = volume["configMap"]["name"]
            for r in resources:
                if r.get("kind") == "ConfigMap" and r["metadata"]["name"] == name:
                    text = r.get("data", {}).get(mount.get("subPath", ""))
        if "secret" in volume:
            keys_dir = mount["mountPath"].rstrip("/")
    return text, keys_dir


# --- checks ------------------------------------------------------------------


def check_schema(resources: list[dict], version: str) -> list[str]:
    problems = []
    for r in resources:
        label = f"{r.get('kind')}/{r.get('metadata', {}).get('name')}"
        if r.get("apiVersion") == "monitoring.coreos.com/v1" and r.get("kind") == "PodMonitor":
            for error in jsonschema.Draft202012Validator(PODMONITOR_SCHEMA).iter_errors(r):
                path = ".".join(str(p) for p in error.absolute_path)
                problems.append(f"{label}: {path}: {error.message} (PodMonitor subset schema)")
            continue
        try:
            kubernetes_validate.validate(r, version, strict=True)
        except kubernetes_validate.ValidationError as error:  # a jsonschema.ValidationError
            path = ".".join(str(p) for p in error.absolute_path)
            problems.append(f"{label}: {path}: {error.message}")
        except kubernetes_validate.utils.SchemaNotFoundError:
            problems.append(f"{label}: no schema for {r.get('apiVersion')} {r.get('kind')} in Kubernetes {version}")
    return problems


def check_config(resources: list[dict], scopegate: str) -> tuple[list[str], dict]:
    """Runs check-config per scopegate container; returns the parsed configs."""
    problems, configs = [], {}
    for workload, template in pods(resources):
        spec = template["spec"]
        container, _ = scopegate_container(spec)
        if container is None:
            continue
        name = workload["metadata"]["name"]
        text, keys_dir = mounted_config(resources, spec, container)
        if text is None:
            problems.append(f"{name}: no ConfigMap key mounted at {CONFIG_PATH} (the image's CMD reads it)")
            continue
        if keys_dir is None:
            problems.append(f"{name}: no Secret volume for the keys")
            continue
        env, env_problems = env_of(container)
        problems += [f"{name}: {p}" for p in env_problems]
        parsed = tomllib.loads(text)
        configs[name] = (parsed, env)
        with tempfile.TemporaryDirectory(prefix="scopegate-deploy-") as tmp:
            keys = Path(tmp, "keys")
            keys.mkdir()
            for key in parsed.get("keys", []):
                for field in ("secret_file", "private_key_file", "public_key_file"):
                    path = key.get(field)
                    if path is None:
                        continue
                    if not path.startswith(keys_dir + "/"):
                        problems.append(f"{name}: key {key.get('kid')}: {field} {path} is not in the Secret's mount {keys_dir}")
                        continue
                    dummy_key(scopegate, keys / path[len(keys_dir) + 1 :], field)
            Path(tmp, "config.toml").write_text(text.replace(keys_dir + "/", str(keys) + "/"))
            run = subprocess.run(
                [scopegate, "check-config", "--config", str(Path(tmp, "config.toml"))],
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
                capture_output=True,
                text=True,
                timeout=30,
            )
            if run.returncode != 0:
                problems.append(f"{name}: check-config exit {run.returncode}: {run.stderr.strip()}")
    if not configs:
        problems.append("no scopegate container found")
    return problems, configs


def dummy_key(scopegate: str, path: Path, field: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if field == "secret_file":
        out = subprocess.run([scopegate, "keygen"], capture_output=True, text=True, timeout=30, check=True).stdout
    else:
        pem = subprocess.run(
            [scopegate, "keygen", "--alg", "EdDSA"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        blocks = re.findall(r"-----BEGIN [^-]+-----.*?-----END [^-]+-----\n?", pem, re.S)
        out = next(b for b in blocks if ("PRIVATE" in b) == (field == "private_key_file"))
    path.write_text(out)


def effective(parsed: dict, env: dict, section: str, setting: str):
    name = f"SCOPEGATE_{section.upper()}_{setting.upper()}"
    return env.get(name, parsed.get(section, {}).get(setting))


def check_pod(workload: dict, template: dict, parsed: dict, env: dict, services: list[dict]) -> list[str]:
    spec = template["spec"]
    container, native = scopegate_container(spec)
    problems: list[str] = []
    pod_sc = spec.get("securityContext", {})
    sc = container.get("securityContext", {})

    def setting(key):
        return sc.get(key, pod_sc.get(key))

    if setting("runAsNonRoot") is not True:
        problems.append("runAsNonRoot is not true")
    uid = setting("runAsUser")
    if not isinstance(uid, int) or uid == 0:
        problems.append(f"runAsUser {uid!r} is not a numeric non-root uid")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if "ALL" not in sc.get("capabilities", {}).get("drop", []) or sc.get("capabilities", {}).get("add"):
        problems.append("capabilities do not drop ALL (or add some)")
    if (setting("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append("seccompProfile is not RuntimeDefault")
    if spec.get("enableServiceLinks") is not False:
        problems.append("enableServiceLinks is not false (service-link variables can look like SCOPEGATE_ settings)")
    if spec.get("automountServiceAccountToken") is not False:
        problems.append("automountServiceAccountToken is not false (scopegate never calls the API server)")
    image = container.get("image", "")
    if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
        problems.append(f"image {image!r} has no version tag")

    admin_port = int(str(effective(parsed, env, "admin", "listen")).rsplit(":", 1)[1])
    listen = str(effective(parsed, env, "server", "listen"))
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    if ports.get("admin") != admin_port:
        problems.append(f"no container port named admin = {admin_port} (admin.listen)")
    for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") not in ("admin", admin_port):
            problems.append(f"{probe} is not GET {path} on the admin port")
    resources = container.get("resources", {})
    if not {"cpu", "memory"} <= set(resources.get("requests", {})) or "memory" not in resources.get("limits", {}):
        problems.append("resources: want cpu and memory requests and a memory limit")

    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})
        if "secret" in volume and "subPath" in mount:
            problems.append(f"Secret volume {mount['name']} mounted with subPath: it would never see a rotation")
        if mount.get("readOnly") is not True:
            problems.append(f"volume mount {mount['mountPath']} is not readOnly")

    grace = spec.get("terminationGracePeriodSeconds", 30)
    shutdown = seconds(str(effective(parsed, env, "server", "shutdown_grace")))
    pauses = sum(
        c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        for c in spec.get("containers", []) + spec.get("initContainers", [])
    )
    if grace < pauses + shutdown + 5:
        problems.append(
            f"terminationGracePeriodSeconds {grace} < preStop pauses {pauses} s + shutdown_grace {shutdown:g} s + 5 s"
        )
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        exec_ = c.get("lifecycle", {}).get("preStop", {}).get("exec")
        if c is container and exec_:
            problems.append("preStop exec in the scopegate container: the image has no shell or sleep (use the sleep action)")

    others = [c for c in spec.get("containers", []) if c is not container]
    if others:  # a sidecar: only the pod may reach the main port
        if not native:
            problems.append("scopegate beside an app is not a native sidecar (initContainers, restartPolicy: Always)")
        if not listen.startswith("127.0.0.1:"):
            problems.append(f"sidecar server.listen {listen} is not loopback (SCOPEGATE_SERVER_LISTEN=127.0.0.1:8080)")
    labels = template["metadata"].get("labels", {})
    for svc in services:
        selector = svc["spec"].get("selector") or {}
        if selector and all(labels.get(k) == v for k, v in selector.items()):
            for port in svc["spec"].get("ports", []):
                if port.get("targetPort", port.get("port")) in ("admin", admin_port) or port.get("port") == admin_port:
                    problems.append(f"Service {svc['metadata']['name']} exposes the admin port")
    return problems


def selects(selector: dict, labels: dict) -> bool:
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def check_exposure(name: str, resources: list[dict], parsed: dict, env: dict) -> list[str]:
    problems = []
    admin_port = int(str(effective(parsed, env, "admin", "listen")).rsplit(":", 1)[1])
    policies = [r for r in resources if r.get("kind") == "NetworkPolicy"]
    for workload, template in pods(resources):
        if scopegate_container(template["spec"])[0] is None:
            continue
        labels = template["metadata"].get("labels", {})
        mine = [p for p in policies if selects(p["spec"].get("podSelector", {}), labels)]
        if not any("Ingress" in p["spec"].get("policyTypes", ["Ingress"]) for p in mine):
            problems.append(f"{workload['metadata']['name']}: no ingress NetworkPolicy selects its pods")
            continue
        for policy in mine:
            for rule in policy["spec"].get("ingress", []):
                ports = [p.get("port") for p in rule.get("ports", [])]
                if (not ports or admin_port in ports or "admin" in ports) and not rule.get("from"):
                    problems.append(f"NetworkPolicy {policy['metadata']['name']}: admits the admin port from anywhere")
        if name == "fleet":
            spec = workload["spec"]
            if spec.get("replicas", 1) < 3:
                problems.append("fleet: fewer than 3 replicas")
            pdbs = [
                r for r in resources
                if r.get("kind") == "PodDisruptionBudget" and selects(r["spec"].get("selector", {}), labels)
            ]
            if not pdbs or not any(
                p["spec"].get("maxUnavailable") == 1 or p["spec"].get("minAvailable", 0) >= 2 for p in pdbs
            ):
                problems.append("fleet: no PodDisruptionBudget with maxUnavailable 1 or minAvailable >= 2")
            pod_spec = template["spec"]
            if not pod_spec.get("topologySpreadConstraints") and not pod_spec.get("affinity", {}).get("podAntiAffinity"):
                problems.append("fleet: no topology spread or pod anti-affinity")
            listen_port = int(str(effective(parsed, env, "server", "listen")).rsplit(":", 1)[1])
            services = [
                r for r in resources
                if r.get("kind") == "Service" and r["spec"].get("selector")
                and all(labels.get(k) == v for k, v in r["spec"]["selector"].items())
            ]
            if not any(
                p.get("targetPort") in ("api", listen_port) for s in services for p in s["spec"].get("ports", [])
            ):
                problems.append(f"fleet: no Service for the API port {listen_port}")
    return problems


def check_monitoring(monitoring: list[dict], overlays: dict[str, list[dict]]) -> list[str]:
    problems = []
    monitors = [r for r in monitoring if r.get("kind") == "PodMonitor"]
    if not monitors:
        return ["no PodMonitor"]
    for name, resources in overlays.items():
        for workload, template in pods(resources):
            container, _ = scopegate_container(template["spec"])
            if container is None:
                continue
            labels = template["metadata"].get("labels", {})
            port_names = {p.get("name") for p in container.get("ports", [])}
            if not any(
                selects(m["spec"]["selector"], labels)
                and any(e.get("port") in port_names for e in m["spec"].get("podMetricsEndpoints", []))
                for m in monitors
            ):
                problems.append(f"{name}: no PodMonitor selects {workload['metadata']['name']} on a port its scopegate declares")
    dashboards = [r for r in monitoring if r.get("kind") == "ConfigMap" and "grafana-dashboard.json" in r.get("data", {})]
    if not dashboards:
        problems.append("no ConfigMap carries grafana-dashboard.json")
    return problems


def metric_catalogue(source: str) -> dict[str, tuple[set[str], bool]]:
    """Metric name -> (labels, is a histogram), read from src/metrics.rs."""
    prefix = re.search(r'new_custom\(\s*Some\("(\w+)"', source)
    prefix = prefix.group(1) + "_" if prefix else ""
    out: dict[str, tuple[set[str], bool]] = {}
    pattern = re.compile(
        r'(HistogramOpts|Opts|IntCounter|IntGauge|Counter|Gauge|Histogram)::new\(\s*"(\w+)"'
        # the label list of a *Vec, without running into the next metric
        r'(?:(?:(?!::new\()[^;])*?\)\s*(?:\.buckets\(\s*vec!\[[^\]]*\]\s*,?\s*\))?\s*,\s*&\[([^\]]*)\])?',
        re.S,
    )
    for kind, name, labels in pattern.findall(source):
        out[prefix + name] = (set(re.findall(r'"(\w+)"', labels or "")), kind.startswith("Histogram"))
    return out


def check_dashboard(path: Path, metrics_rs: Path) -> tuple[list[str], list[str]]:
    problems, notes = [], []
    catalogue = metric_catalogue(metrics_rs.read_text())
    if not catalogue:
        return [f"no metrics found in {metrics_rs}"], notes
    try:
        dashboard = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        return [f"{path}: not JSON: {error}"], notes
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "query", "definition") and isinstance(value, str):
                    exprs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    used = set()
    for expr in exprs:
        if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
            problems.append(f"unbalanced brackets: {expr}")
        names = set(re.findall(r"\b(scopegate_\w+)", expr))
        labels_allowed = set(TARGET_LABELS)
        for name in names:
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name in catalogue:
                labels_allowed |= catalogue[name][0]
                used.add(name)
            elif base in catalogue and catalogue[base][1]:
                labels_allowed |= catalogue[base][0] | ({"le"} if name.endswith("_bucket") else set())
                used.add(base)
            else:
                problems.append(f"metric {name} is not in {metrics_rs}")
        if not names:
            continue
        grouped = [l.strip() for group in re.findall(r"\bby\s*\(([^)]*)\)", expr) for l in group.split(",")]
        matched = re.findall(r"[{,]\s*(\w+)\s*(?:=~|!~|!=|=)", expr)
        for label in grouped + matched + re.findall(r",\s*(\w+)\)\s*$", expr if "label_values" in expr else ""):
            if label and label not in labels_allowed:
                problems.append(f"label {label} is not a label of {sorted(names)}: {expr}")
    unused = sorted(set(catalogue) - used)
    if unused:
        notes.append(f"metrics not on the dashboard: {', '.join(unused)}")
    if len(exprs) < 10:
        problems.append(f"only {len(exprs)} queries in the dashboard")
    return problems, notes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k8s-version", required=True)
    parser.add_argument("--scopegate", required=True)
    parser.add_argument("--metrics", required=True, type=Path)
    parser.add_argument("--dashboard", required=True, type=Path)
    parser.add_argument("rendered", nargs="+", help="NAME=FILE")
    args = parser.parse_args()
    rendered = {}
    for item in args.rendered:
        name, _, file = item.partition("=")
        rendered[name] = [r for r in yaml.safe_load_all(Path(file).read_text()) if r]

    report = Report()
    for name, resources in rendered.items():
        report.check(f"{name}: {len(resources)} resources validate against Kubernetes {args.k8s_version} (strict)",
                     check_schema(resources, args.k8s_version))
    overlays = {n: r for n, r in rendered.items() if n != "monitoring"}
    for name, resources in overlays.items():
        problems, configs = check_config(resources, args.scopegate)
        report.check(f"{name}: the mounted config.toml passes scopegate check-config with the pod's environment", problems)
        services = [r for r in resources if r.get("kind") == "Service"]
        for workload, template in pods(resources):
            wname = workload["metadata"]["name"]
            if wname not in configs:
                continue
            parsed, env = configs[wname]
            report.check(f"{name}: {wname}: security context, probes, resources, mounts, shutdown budget",
                         check_pod(workload, template, parsed, env, services))
            report.check(f"{name}: {wname}: exposure (admin port unexposed, NetworkPolicy; fleet: replicas, PDB, spread)",
                         check_exposure(name, resources, parsed, env))
    if "monitoring" in rendered:
        report.check("monitoring: the PodMonitor selects every scopegate pod on its admin port",
                     check_monitoring(rendered["monitoring"], overlays))
    problems, notes = check_dashboard(args.dashboard, args.metrics)
    report.check(f"dashboard: metric and label names exist in {args.metrics}", problems)
    for note in notes:
        print(f"note {note}")
    print(f"check_manifests: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
