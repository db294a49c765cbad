"""deploy/k8s and the Dockerfile: schema-valid, and consistent with the app they run.

Every manifest (base, overlays, and the HPA after the optional overlay's JSON patch) is
validated offline against the Kubernetes 1.37 OpenAPI schemas shipped by the
``kubernetes-validate`` package, in strict mode (an unknown field is an error). The
probes, ports, drain time and user id are checked against the app's own routes and
settings, and the Dockerfile is parsed for the properties the image must have.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from fastapi.testclient import TestClient

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.37.0"
KUSTOMIZATIONS = sorted(K8S.rglob("kustomization.yaml"))
PATCHES = {K8S / "overlays" / "autoscale-on-requests" / "hpa-requests-patch.yaml"}
MANIFESTS = sorted(
    p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml" and p not in PATCHES
)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _one(name: str) -> dict[str, Any]:
    [doc] = _docs(K8S / "base" / name)
    return doc


def _container() -> dict[str, Any]:
    [container] = _one("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_is_valid_against_the_kubernetes_schemas(path: Path) -> None:
    """Each document validates strictly against the shipped Kubernetes schemas."""
    for doc in _docs(path):
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_a_broken_manifest_is_rejected() -> None:
    """The validator is not a no-op: a misspelt HPA field fails strict validation."""
    broken = copy.deepcopy(_one("hpa.yaml"))
    broken["spec"]["minReplica"] = broken["spec"].pop("minReplicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_kustomizations_name_only_files_that_exist(path: Path) -> None:
    """Every resource and patch a kustomization lists exists; base lists all its files."""
    kustomization = yaml.safe_load(path.read_text())
    listed = list(kustomization.get("resources", []))
    listed += [patch["path"] for patch in kustomization.get("patches", []) if "path" in patch]
    for entry in listed:
        assert (path.parent / entry).exists(), entry
    if path.parent.name == "base":
        files = {p.name for p in path.parent.glob("*.yaml")} - {"kustomization.yaml"}
        assert set(kustomization["resources"]) == files


def test_the_hpa_is_the_standards() -> None:
    """3 to 20 replicas of the Deployment, at 70% CPU and 80% memory."""
    spec = _one("hpa.yaml")["spec"]
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in spec["metrics"]}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 20)
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 70},
        "memory": {"type": "Utilization", "averageUtilization": 80},
    }
    assert spec["scaleTargetRef"]["name"] == _one("deployment.yaml")["metadata"]["name"]


def test_the_optional_requests_hpa_is_valid_after_its_patch() -> None:
    """The overlay's JSON patch adds a per-pod requests/s metric (prometheus-adapter's
    name) to the HPA, and the patched HPA still validates and keeps CPU and memory."""
    hpa = copy.deepcopy(_one("hpa.yaml"))
    [patch] = PATCHES
    for operation in yaml.safe_load(patch.read_text()):
        assert (operation["op"], operation["path"]) == ("add", "/spec/metrics/-")
        hpa["spec"]["metrics"].append(operation["value"])
    kubernetes_validate.validate(hpa, KUBERNETES, strict=True)
    kinds = [m["type"] for m in hpa["spec"]["metrics"]]
    assert kinds == ["Resource", "Resource", "Pods"]
    rules = (patch.parent / "adapter-rules.yaml").read_text()
    assert hpa["spec"]["metrics"][2]["pods"]["metric"]["name"] in rules


def test_probes_and_ports_match_the_app(ingested_url: str) -> None:
    """Liveness is /health and readiness /ready, on the named port that is the container
    port, the ConfigMap's CMS_PRICING_PORT and the Service's target; the app answers both
    paths with 200 once a release is loaded."""
    container = _container()
    config = _one("configmap.yaml")["data"]
    [port] = container["ports"]
    assert (port["name"], port["containerPort"]) == ("http", int(config["CMS_PRICING_PORT"]))
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert _one("service.yaml")["spec"]["ports"][0]["targetPort"] == "http"
    settings = Settings(DATABASE_URL=ingested_url, CMS_DATA_DIR=None)
    with TestClient(create_app(settings)) as client:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert client.get(container[probe]["httpGet"]["path"]).status_code == 200


def test_every_configmap_key_is_a_setting() -> None:
    """A misspelt setting in the ConfigMap or Secret would be silently ignored."""
    names = {
        str(choice)
        for field in Settings.model_fields.values()
        for choice in getattr(field.validation_alias, "choices", ())
    }
    keys = set(_one("configmap.yaml")["data"]) | set(_one("secret.yaml")["stringData"])
    assert keys <= names, keys - names


def test_the_admin_token_comes_from_the_secret_as_a_placeholder() -> None:
    """The pods (and the ingest Job) take every Secret key, CMS_PRICING_ADMIN_TOKEN among
    them, from the one Secret; the committed value is a placeholder, and the ConfigMap,
    which is not secret, has no token and keeps the laptop defaults (keys optional)."""
    secret = _one("secret.yaml")
    ingest = _one("job-ingest.yaml")["spec"]["template"]["spec"]["containers"][0]
    for container in (_container(), ingest):
        refs = [
            source["secretRef"]["name"] for source in container["envFrom"] if "secretRef" in source
        ]
        assert refs == [secret["metadata"]["name"]]
    assert secret["stringData"]["CMS_PRICING_ADMIN_TOKEN"] == "CHANGE-ME"
    config = _one("configmap.yaml")["data"]
    assert not {"CMS_PRICING_ADMIN_TOKEN", "CMS_PRICING_REQUIRE_KEYS"} & set(config)


def test_production_requires_keys_limits_rates_and_applies_no_placeholder_secret() -> None:
    """The production overlay (and the autoscaling one built on it) patches the ConfigMap to
    CMS_PRICING_REQUIRE_KEYS=true and CMS_PRICING_RATE_LIMITS=true, both real settings, and
    deletes the placeholder Secret from what it applies (the real one is made with kubectl)."""
    overlay = K8S / "overlays" / "production"
    patches = yaml.safe_load((overlay / "kustomization.yaml").read_text())["patches"]
    data: dict[str, str] = {}
    for patch in (p for p in patches if "path" in p):
        [doc] = _docs(overlay / patch["path"])
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == "cms-pricing":
            data |= doc["data"]
    settings = Settings.model_validate(data)
    assert (settings.require_keys, settings.rate_limits) == (True, True)
    assert set(data) == {"CMS_PRICING_REQUIRE_KEYS", "CMS_PRICING_RATE_LIMITS"}
    deleted = [yaml.safe_load(p["patch"]) for p in patches if "patch" in p]
    secret = _one("secret.yaml")["metadata"]["name"]
    assert {"$patch": "delete", "apiVersion": "v1", "kind": "Secret"} | {
        "metadata": {"name": secret}
    } in deleted
    autoscale = yaml.safe_load(
        (K8S / "overlays" / "autoscale-on-requests" / "kustomization.yaml").read_text()
    )
    assert "../production" in autoscale["resources"]


def test_the_pod_drains_within_its_grace_period_and_runs_as_non_root() -> None:
    """preStop sleep + CMS_PRICING_DRAIN_SECONDS fits in terminationGracePeriodSeconds;
    the pod runs as a non-root uid without privilege escalation; resources are bounded."""
    pod = _one("deployment.yaml")["spec"]["template"]["spec"]
    container = _container()
    drain = int(_one("configmap.yaml")["data"]["CMS_PRICING_DRAIN_SECONDS"])
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop + drain < pod["terminationGracePeriodSeconds"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert int(_one("configmap.yaml")["data"]["CMS_PRICING_WORKERS"]) <= int(
        container["resources"]["limits"]["cpu"]
    )


def _dockerfile() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(ARG defaults, [(INSTRUCTION, arguments)]) with continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    steps = [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]
    args = dict(arg.split("=", 1) for op, arg in steps if op == "ARG")
    return args, [(op.upper(), rest) for op, rest in steps]


def test_the_dockerfile_is_multi_stage_pinned_and_non_root() -> None:
    """Two or more stages, every base a full version tag (never latest), the runtime stage
    copies from the build stage, runs as uid 10001 (the pods' runAsUser), exposes the
    app's port and starts `cms-pricing serve`."""
    args, steps = _dockerfile()
    froms = [rest for op, rest in steps if op == "FROM"]
    bases = [re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], rest) for rest in froms]
    assert len(bases) >= 2
    for base in bases:
        image = base.split()[0]
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", image), image
    final = steps[max(i for i, (op, _rest) in enumerate(steps) if op == "FROM") :]
    final_ops = dict(final)
    assert "--from=build" in " ".join(rest for op, rest in final if op == "COPY")
    assert final_ops["USER"].split(":")[0] == "10001"
    assert final_ops["EXPOSE"] == _one("configmap.yaml")["data"]["CMS_PRICING_PORT"]
    assert (final_ops["ENTRYPOINT"], final_ops["CMD"]) == ('["cms-pricing"]', '["serve"]')


def test_the_docker_context_leaves_out_local_state() -> None:
    """.dockerignore keeps the virtualenv, local databases, tests and git out of the image."""
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", "tests", ".env"} <= ignored
