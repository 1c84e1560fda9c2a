"""infra/cluster: manifests and configs parse and agree, the sizing arithmetic, and a real remote
Spark Connect endpoint (a standalone Sail server in another process) used by our session code."""

from __future__ import annotations

import glob
import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / "infra" / "cluster"
SAIL_BIN = Path(sys.executable).with_name("sail")
SUPERSET_PYTHON = REPO / ".venv-superset" / "bin" / "python"


def _load_yaml_docs(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc is not None]


def _manifests(path: Path) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for d in _load_yaml_docs(path) if "kind" in d}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- every YAML parses; Kubernetes manifests are well-formed --------------------------------------

YAML_FILES = sorted(
    Path(p) for ext in ("yaml", "yml") for p in glob.glob(f"{CLUSTER}/**/*.{ext}", recursive=True)
)


def test_there_are_cluster_yaml_files() -> None:
    names = {p.relative_to(CLUSTER).as_posix() for p in YAML_FILES}
    assert {"sail/sail.yaml", "dagster/dagster.yaml", "dagster/values.yaml", "lakehouse.yaml",
            "kustomization.yaml"} <= names  # fmt: skip


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(CLUSTER).as_posix())
def test_yaml_parses_and_manifests_have_kind_and_name(path: Path) -> None:
    docs = _load_yaml_docs(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        assert isinstance(doc, dict), f"{path}: a document is not a mapping"
        if "apiVersion" not in doc:
            continue  # dagster.yaml / Helm values: not Kubernetes objects
        assert doc.get("kind"), f"{path}: a manifest without kind"
        if doc["kind"] == "Kustomization":
            for res in doc["resources"]:
                assert (path.parent / res).is_file(), f"{path}: missing resource {res}"
            continue
        assert doc.get("metadata", {}).get("name"), f"{path}: {doc['kind']} without metadata.name"
        assert "namespace" not in doc["metadata"], "the namespace is set once, by kustomization"


def test_sail_manifest_has_what_sails_docs_ask_for() -> None:
    objs = _manifests(CLUSTER / "sail" / "sail.yaml")
    kinds = {kind for kind, _ in objs}
    assert {"Deployment", "Service", "ServiceAccount", "Role", "RoleBinding", "ConfigMap",
            "NetworkPolicy"} <= kinds  # fmt: skip
    deploy = objs[("Deployment", "sail-spark-server")]
    assert deploy["spec"]["replicas"] == 1  # a Spark Connect session lives in one server
    pod = deploy["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "sail-server"
    binding = objs[("RoleBinding", "sail-server")]
    assert binding["subjects"][0]["name"] == "sail-server"
    assert binding["roleRef"]["name"] == "sail-server"
    role = objs[("Role", "sail-server")]
    assert role["rules"][0]["resources"] == ["pods"]  # the server manages its worker pods only
    assert {"create", "delete", "get"} <= set(role["rules"][0]["verbs"])
    service = objs[("Service", "sail-spark-server")]
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    config = objs[("ConfigMap", "sail-config")]["data"]
    assert config["SAIL_MODE"] == "kubernetes-cluster"
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["SAIL_CLUSTER__DRIVER_EXTERNAL_HOST"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "status.podIP"
    )
    assert config["SAIL_KUBERNETES__WORKER_SERVICE_ACCOUNT_NAME"] in {
        name for kind, name in objs if kind == "ServiceAccount"
    }


def _sail_env_from_manifest() -> dict[str, str]:
    """The SAIL_* environment the server container gets (valueFrom fields: local stand-ins)."""
    objs = _manifests(CLUSTER / "sail" / "sail.yaml")
    env = {k: str(v) for k, v in objs[("ConfigMap", "sail-config")]["data"].items()}
    container = objs[("Deployment", "sail-spark-server")]["spec"]["template"]["spec"]["containers"]
    stand_ins = {
        "status.podIP": "127.0.0.1",
        "metadata.name": "sail-test",
        "metadata.namespace": "t",
    }
    for item in container[0]["env"]:
        env[item["name"]] = (
            item.get("value") or stand_ins[item["valueFrom"]["fieldRef"]["fieldPath"]]
        )
    # the workers' own settings (pod template env) are read by the same binary: check them too
    template = json.loads(env["SAIL_KUBERNETES__WORKER_POD_TEMPLATE"])
    for item in template["spec"]["containers"][0]["env"]:
        env[item["name"]] = item["value"]
    env["SAIL_CLUSTER__DRIVER_LISTEN_HOST"] = "127.0.0.1"
    env["SAIL_CLUSTER__DRIVER_LISTEN_PORT"] = "0"
    return env


def _start_sail(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SAIL_BIN), "spark", "server", "--ip", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "RUST_LOG": "error", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_pinned_sail_accepts_the_manifests_configuration() -> None:
    """pysail 0.7.2 rejects unknown or mistyped SAIL_* keys at start: the manifest's must pass."""
    env = _sail_env_from_manifest()
    assert sum(k.startswith("SAIL_") for k in env) >= 10
    port = _free_port()
    proc = _start_sail(env, port)
    try:
        _wait_port(port, proc)  # kubernetes-cluster mode starts; workers are launched on demand
        # the probes of the Deployment are gRPC health checks on the Spark Connect port
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10
            )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        _stop(proc)
    # the check can fail: a misspelt key stops the server
    bad = _start_sail({**env, "SAIL_CLUSTER__WORKER_MAX_COUNTT": "1"}, _free_port())
    try:
        assert bad.wait(timeout=15) != 0
        assert "WORKER_MAX_COUNTT" in bad.stderr.read()
    finally:
        _stop(bad)


def test_every_pod_mounts_the_same_lake_at_the_same_path() -> None:
    shared = _manifests(CLUSTER / "lakehouse.yaml")
    claim = "lakehouse-lake"
    assert ("PersistentVolumeClaim", claim) in shared
    assert shared[("PersistentVolumeClaim", claim)]["spec"]["accessModes"] == ["ReadWriteMany"]
    lake_path = shared[("ConfigMap", "lakehouse-env")]["data"]["LAKEHOUSE_LAKE"]

    def mount_of(volumes: list[dict], mounts: list[dict]) -> str:
        (name,) = [v["name"] for v in volumes if v.get("persistentVolumeClaim", {}).get("claimName") == claim]  # fmt: skip
        (path,) = [m["mountPath"] for m in mounts if m["name"] == name]
        return path

    sail = _manifests(CLUSTER / "sail" / "sail.yaml")
    server = sail[("Deployment", "sail-spark-server")]["spec"]["template"]["spec"]
    assert mount_of(server["volumes"], server["containers"][0]["volumeMounts"]) == lake_path
    template = json.loads(sail[("ConfigMap", "sail-config")]["data"]["SAIL_KUBERNETES__WORKER_POD_TEMPLATE"])  # fmt: skip
    (worker,) = template["spec"]["containers"]
    assert worker["name"] == "worker"  # Sail merges the template into its container "worker"
    assert mount_of(template["spec"]["volumes"], worker["volumeMounts"]) == lake_path
    assert template["metadata"]["labels"]  # template labels are merged, Sail's own win

    launcher = yaml.safe_load((CLUSTER / "dagster" / "dagster.yaml").read_text())["run_launcher"]
    assert mount_of(launcher["config"]["volumes"], launcher["config"]["volume_mounts"]) == lake_path
    values = yaml.safe_load((CLUSTER / "dagster" / "values.yaml").read_text())
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert mount_of(k8s["volumes"], k8s["volumeMounts"]) == lake_path
    (code,) = values["dagster-user-deployments"]["deployments"]
    assert mount_of(code["volumes"], code["volumeMounts"]) == lake_path


def test_run_pods_are_the_engines_allowed_clients() -> None:
    sail = _manifests(CLUSTER / "sail" / "sail.yaml")
    policy = sail[("NetworkPolicy", "sail-spark-server")]["spec"]["ingress"][0]
    allowed = policy["from"][0]["podSelector"]["matchLabels"]
    assert policy["ports"] == [{"port": 50051, "protocol": "TCP"}]
    launcher = yaml.safe_load((CLUSTER / "dagster" / "dagster.yaml").read_text())["run_launcher"]
    labels = launcher["config"]["run_k8s_config"]["pod_template_spec_metadata"]["labels"]
    assert allowed.items() <= labels.items()
    values = yaml.safe_load((CLUSTER / "dagster" / "values.yaml").read_text())
    helm = values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]
    assert allowed.items() <= helm["podTemplateSpecMetadata"]["labels"].items()
    env = _manifests(CLUSTER / "lakehouse.yaml")[("ConfigMap", "lakehouse-env")]["data"]
    # landing's process pool matches the run pod's CPU request (not the node's cpu_count)
    workers = env["LAKEHOUSE_LANDING_WORKERS"]
    container = launcher["config"]["run_k8s_config"]["container_config"]
    assert container["resources"]["requests"]["cpu"] == workers
    assert helm["containerConfig"]["resources"]["requests"]["cpu"] == workers
    service = sail[("Service", "sail-spark-server")]
    assert env["LAKEHOUSE_SPARK_REMOTE"] == (
        f"sc://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"
    )


# --- Dagster ----------------------------------------------------------------------------------

DAGSTER_ENV = {
    "DAGSTER_PG_HOST": "pg.example",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_DB": "dagster_350000",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "secret",
    "DAGSTER_K8S_JOB_NAMESPACE": "lakehouse-350000",
    "DAGSTER_K8S_INSTANCE_CONFIG_MAP": "dagster-instance",
    "DAGSTER_K8S_PG_PASSWORD_SECRET": "dagster-postgresql-secret",
    "DAGSTER_K8S_RUN_SERVICE_ACCOUNT": "dagster-run",
}


def test_dagster_yaml_is_a_valid_instance_config(monkeypatch) -> None:
    from dagster._config import process_config, validate_config
    from dagster._core.instance.config import dagster_instance_config_schema
    from dagster._core.run_coordinator import QueuedRunCoordinator

    config = yaml.safe_load((CLUSTER / "dagster" / "dagster.yaml").read_text())
    result = validate_config(dagster_instance_config_schema(), config)
    assert result.success, [e.message for e in result.errors]
    assert set(config["storage"]) == {"postgres"}  # run, event-log and schedule storage
    for env in DAGSTER_ENV:
        monkeypatch.setenv(env, DAGSTER_ENV[env])
    storage = process_config(dagster_instance_config_schema(), config)
    assert storage.success, [e.message for e in storage.errors]
    pg = storage.value["storage"]["postgres"]["postgres_db"]
    assert (pg["hostname"], pg["port"], pg["db_name"]) == ("pg.example", 5432, "dagster_350000")

    coordinator = config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    assert coordinator["config"]["max_concurrent_runs"] == 1  # one writer per lake
    assert validate_config(QueuedRunCoordinator.config_type(), coordinator["config"]).success
    # locally an instance may serve several lakes: the same rule, one run per lake, by run tag
    from orchestration.environment import LAKE_TAG
    from orchestration.instance import LakeRunCoordinator

    local = yaml.safe_load((REPO / "infra" / "dagster" / "dagster.yaml").read_text())
    local = local["run_coordinator"]
    assert (local["module"], local["class"]) == ("orchestration.instance", "LakeRunCoordinator")
    assert issubclass(LakeRunCoordinator, QueuedRunCoordinator)
    per_lake = {"key": LAKE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    assert per_lake in local["config"]["tag_concurrency_limits"]
    assert validate_config(QueuedRunCoordinator.config_type(), local["config"]).success

    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    if importlib.util.find_spec("dagster_k8s") is not None:
        from dagster_k8s import K8sRunLauncher

        processed = process_config(K8sRunLauncher.config_type(), launcher["config"])
        assert processed.success, [e.message for e in processed.errors]
        assert processed.value["job_namespace"] == "lakehouse-350000"
    else:  # dagster-k8s is in the cluster image only: check what it requires by hand
        assert "instance_config_map" in launcher["config"]
        assert launcher["config"]["load_incluster_config"] is True


def test_helm_values_match_the_instance_and_the_code() -> None:
    values = yaml.safe_load((CLUSTER / "dagster" / "values.yaml").read_text())
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] and coordinator["type"] == "QueuedRunCoordinator"
    assert coordinator["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] == 1
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False
    (code,) = values["dagster-user-deployments"]["deployments"]
    args = code["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    assert importlib.util.find_spec(module) is not None, f"{module} is not importable"
    assert code["includeConfigInLaunchedRuns"]["enabled"] is True
    # the chart's schema wants {name: ...} objects for env sources
    for sources in (code["envConfigMaps"], code["envSecrets"]):
        assert all(set(s) == {"name"} for s in sources)


# --- Apache Spark 4 Connect + Delta: the conf and the start command --------------------------------


def test_spark_defaults_enable_delta_connect() -> None:
    conf = {}
    for line in (CLUSTER / "spark-connect" / "spark-defaults.conf").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split(None, 1)
            assert key not in conf, f"{key} twice"
            conf[key] = value.strip()
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.catalog.spark_catalog"] == (
        "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    )
    assert conf["spark.connect.extensions.relation.classes"] == (
        "org.apache.spark.sql.connect.delta.DeltaRelationPlugin"
    )
    assert conf["spark.connect.extensions.command.classes"] == (
        "org.apache.spark.sql.connect.delta.DeltaCommandPlugin"
    )
    assert conf["spark.sql.session.timeZone"] == "UTC"


def test_start_script_assembles_the_server_command(tmp_path) -> None:
    spark_home = tmp_path / "spark"
    (spark_home / "sbin").mkdir(parents=True)
    fake = spark_home / "sbin" / "start-connect-server.sh"
    fake.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    script = CLUSTER / "spark-connect" / "start-connect-server.sh"
    env = {
        "PATH": os.environ["PATH"],
        "SPARK_HOME": str(spark_home),
        "DELTA_VERSION": "9.9.9",
        "SPARK_MASTER": "k8s://https://kubernetes.default.svc",
        "SPARK_K8S_NAMESPACE": "lakehouse-350000",
        "SPARK_K8S_IMAGE": "registry/spark-delta:1",
        "SPARK_DRIVER_HOST": "10.0.0.7",
        "LAKE_VOLUME_CLAIM": "lakehouse-lake",
        "LAKE_MOUNT_PATH": "/lake",
    }
    out = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, check=True)
    args = out.stdout.splitlines()
    assert args[args.index("--properties-file") + 1] == str(script.parent / "spark-defaults.conf")
    assert "io.delta:delta-connect-server_2.13:9.9.9" in args[args.index("--packages") + 1]
    assert args[args.index("--master") + 1] == "k8s://https://kubernetes.default.svc"
    confs = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in args if "=" in a}
    assert confs["spark.kubernetes.namespace"] == "lakehouse-350000"
    assert confs["spark.driver.host"] == "10.0.0.7"
    vol = "spark.kubernetes.executor.volumes.persistentVolumeClaim.lake"
    assert (confs[f"{vol}.options.claimName"], confs[f"{vol}.mount.path"]) == (
        "lakehouse-lake",
        "/lake",
    )
    missing = subprocess.run(
        ["bash", str(script)], env={**env, "DELTA_VERSION": ""}, capture_output=True, text=True
    )
    assert missing.returncode != 0 and "DELTA_VERSION" in missing.stderr


# --- sizing.py: hand-computed numbers -------------------------------------------------------------


def _sizing():
    spec = importlib.util.spec_from_file_location("cluster_sizing", CLUSTER / "sizing.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def _bench(
    exponent: float | None = 1.0, indicators: tuple[float, float] = (0.4, 4.0), fleet: bool = False
) -> dict:
    """Two sizes, the shape `lakehouse bench --json` prints; 100 landing bytes (MiB-based) a point."""

    def stage(seconds: float, rss: float, points: int) -> dict:
        return {"seconds": seconds, "rows_per_s": points / seconds,
                "mb_per_s": 100 * points / seconds / 2**20, "peak_rss_mb": rss}  # fmt: skip

    def size(points: int, land: float, publish: float, facts: float, ind: float) -> dict:
        stages = {"land": stage(land, 1400, points), "publish": stage(publish, 1200, points),
                  "facts": stage(facts, 1600, points), "indicators": stage(ind, 700, points)}  # fmt: skip
        total = land + publish + facts + ind
        out = {"points": points, "stages": stages,
               "total": {"seconds": total, "rows_per_s": points / total, "peak_rss_mb": 1600}}  # fmt: skip
        if fleet:  # 40 vehicles a million points, over 31 days
            out |= {"vehicles": points // 25_000, "days": 31}
        return out

    small, large = indicators
    bench = {
        "sizes": {
            "1M": size(1_000_000, 2.0, 1.0, 3.0, small),
            "10M": size(10_000_000, 20.0, 10.0, 30.0, large),
        },  # fmt: skip
        "machine": {"cores": 2, "memory_gb": 23},
        "ratios": {"10M": {"jvm_spark": 2.5, "duckdb": 0.5, "raw_scan": 0.1}},
    }
    if exponent is not None:
        bench["growth"] = {"exponent": exponent}
    return bench


def test_sizing_linear_growth_hand_computed() -> None:
    sizing = _sizing()
    params = sizing.Params(points_per_day=100e6, days=30, deadline_h=0.5, efficiency=0.5,
                           cores_per_node=16, memory_per_node_gb=64, memory_headroom=1.5)  # fmt: skip
    est = sizing.estimate(_bench(1.0), params)
    # reference = the largest size, 10M points on 2 cores; a day is 100M points: x10
    assert (est.reference, est.n_ref, est.bench_cores) == ("10M", 10_000_000, 2)
    assert est.daily_stages == pytest.approx({"land": 200.0, "publish": 100.0, "facts": 300.0})
    # indicators run on the month: 100M x 30 = 3e9 points = 300 x 10M -> 4 s x 300
    assert est.monthly_stages == pytest.approx({"indicators": 1200.0})
    day, month_end, rerun = est.scenarios
    # day: 600 s on 2 cores = 1200 core-s; / (0.5 x 1800 s) = 1.33 -> 2 cores
    assert (day.seconds_on_bench, day.cores) == (pytest.approx(600.0), 2)
    # month-end: 600 + 1200 = 1800 s -> 3600 core-s / 900 = 4 cores
    assert (month_end.seconds_on_bench, month_end.cores) == (pytest.approx(1800.0), 4)
    # re-run: 30 x 600 + 1200 = 19200 s -> 38400 / 900 = 42.67 -> 43 cores
    assert (rerun.seconds_on_bench, rerun.cores) == (pytest.approx(19200.0), 43)
    # memory: largest stage RSS 1600 MB / 2 cores = 800 MB/core x 1.5 = 1200 MB/core
    assert est.per_core_rss_mb == pytest.approx(800.0)
    assert month_end.memory_gib == pytest.approx(4 * 1200 / 1024)
    assert rerun.memory_gib == pytest.approx(43 * 1200 / 1024)  # 50.4 GiB: one node's worth
    # nodes: ceil(43 / 16) = 3 by cores, ceil(50.4 / 64) = 1 by memory
    assert (day.nodes, month_end.nodes, rerun.nodes) == (1, 1, 3)
    # landing runs in the run pod: its share of the cores by time. day 2 x 200/600 = 0.67 -> 1;
    # month-end 4 x 200/1800 = 0.44 -> 1; re-run 43 x (30 x 200)/19200 = 13.4 -> 14
    assert (day.run_pod_cores, month_end.run_pod_cores, rerun.run_pod_cores) == (1, 1, 14)
    # landing input: 100 bytes a point (MB/s / rows/s, the benchmark's MB being MiB)
    assert est.bytes_per_point == pytest.approx(100.0)
    # the other model agrees here: these stage times are exactly linear with no fixed cost
    assert est.cross_check == {"day": 2, "month-end": 4, "re-run month": 43}


def test_sizing_power_law_and_floor() -> None:
    sizing = _sizing()
    params = sizing.Params(points_per_day=100e6, days=30, deadline_h=1.0, efficiency=0.7)
    est = sizing.estimate(_bench(1.2), params)
    assert set(est.exponents.values()) == {1.2}
    # facts: 30 s x 10 ^ 1.2 = 475.5 s; indicators: 4 s x 300 ^ 1.2 = 3734.6 s
    assert est.daily_stages["facts"] == pytest.approx(30 * 10**1.2)
    assert est.monthly_stages["indicators"] == pytest.approx(4 * 300**1.2)
    month_end = est.scenarios[1]
    seconds = 60 * 10**1.2 + 4 * 300**1.2  # 4685.4 s on 2 cores
    assert month_end.cores == math.ceil(seconds * 2 / (0.7 * 3600))  # 3.72 -> 4
    # a measured exponent below 1 (start-up cost at small sizes) is not extrapolated
    floored = sizing.estimate(_bench(0.8), params)
    assert set(floored.exponents.values()) == {1.0} and "raised" in floored.exponent_source
    # without growth.exponent: fitted on the two largest sizes, 6.4 s at 1M and 64 s at 10M of
    # stage time -> log(64 / 6.4) / log(10) = 1
    fitted = sizing.estimate(_bench(None), sizing.Params(min_exponent=0.0))
    assert fitted.exponents["facts"] == pytest.approx(1.0) and "fitted" in fitted.exponent_source


def test_sizing_per_stage_exponents_and_affine_fit() -> None:
    sizing = _sizing()
    params = sizing.Params(points_per_day=100e6, days=30, deadline_h=1.0, efficiency=0.5)
    bench = _bench(1.0, indicators=(30.0, 39.0))  # dbt-like: 29 s fixed + 1 s per M points
    bench["growth"]["stages"] = {"facts": 1.3, "indicators": math.log10(39 / 30)}
    power = sizing.estimate(bench, params)
    # facts: its own exponent, 30 s x 10 ^ 1.3; land/publish: growth.exponent 1.0
    assert power.exponents == pytest.approx({"land": 1.0, "publish": 1.0, "facts": 1.3,
                                             "indicators": 1.0})  # fmt: skip
    assert power.daily_stages["facts"] == pytest.approx(30 * 10**1.3)
    # indicators' 0.114 is raised to 1: 39 s x 300 = 11 700 s (fixed cost counted as throughput)
    assert power.monthly_stages["indicators"] == pytest.approx(39 * 300)
    assert "indicators 0.11" in power.exponent_source
    affine = sizing.estimate(bench, replace(params, model="affine"))
    # indicators: slope (39 - 30) / 9M = 1e-6 s/point, intercept 30 - 1 = 29 s;
    # the month's 3e9 points: 29 + 3000 = 3029 s
    a, b = affine.fits["indicators"]
    assert (a, b) == (pytest.approx(29.0), pytest.approx(1e-6))
    assert affine.monthly_stages["indicators"] == pytest.approx(3029.0)
    # land 2 s at 1M, 20 s at 10M: no fixed cost, 2e-6 s/point -> 200 s a day
    assert affine.daily_stages["land"] == pytest.approx(200.0)
    # month-end, affine: 200 + 100 + 300 + 3029 = 3629 s -> 3629 x 2 / (0.5 x 3600) = 4.03 -> 5
    assert affine.scenarios[1].cores == 5
    assert power.cross_check["month-end"] == 5
    # with the fleet reported, the monthly indicators scale with vehicle-days instead of points:
    # 10M = 400 vehicles x 31 days = 12 400; the province: 100 000 x 30 = 3 000 000 -> x 241.9
    fleet = sizing.estimate(_bench(1.0, fleet=True), params)
    assert fleet.drivers == {"land": "points", "publish": "points", "facts": "points",
                             "indicators": "vehicle-days"}  # fmt: skip
    assert fleet.monthly_stages["indicators"] == pytest.approx(4 * 3_000_000 / 12_400)
    assert fleet.daily_stages["facts"] == pytest.approx(300.0)  # still 30 s x 10
    with pytest.raises(sizing.BenchError, match="two sizes"):
        one = {**bench, "sizes": {"10M": bench["sizes"]["10M"]}}
        sizing.estimate(one, replace(params, model="affine"))


def test_sizing_cli(tmp_path) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(_bench(1.0)))
    script = str(CLUSTER / "sizing.py")
    args = ["--points-per-day", "100e6", "--days", "30", "--deadline-h", "0.5", "--efficiency", "0.5"]  # fmt: skip
    out = subprocess.run([sys.executable, script, str(bench), *args, "--json"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    result = json.loads(out.stdout)
    assert [s["cores"] for s in result["scenarios"]] == [2, 4, 43]
    table = subprocess.run([sys.executable, script, str(bench), *args],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "re-run month" in table and "Assumptions:" in table and "0.5 efficiency" in table
    helped = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--points-per-day" in helped.stdout
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"sizes": _bench()["sizes"]}))  # no machine
    failed = subprocess.run([sys.executable, script, str(broken)], capture_output=True, text=True)
    assert failed.returncode == 2 and "machine.cores" in failed.stderr


# --- Superset overlay -----------------------------------------------------------------------------

OVERLAY = CLUSTER / "superset" / "superset_config.py"
SUPERSET_ENV = {
    "SUPERSET_DATABASE_URI": "postgresql+psycopg2://superset:pw@pg.example:5432/superset",
    "SUPERSET_SECRET_KEY": "k" * 48,
    "SUPERSET_REDIS_URL": "redis://:pw@redis.example:6379/0",
}
PROBE = """
import importlib.util, json
spec = importlib.util.spec_from_file_location("superset_config", {path!r})
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
print(json.dumps({{k: getattr(m, k) for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY",
    "CACHE_CONFIG", "DATA_CACHE_CONFIG", "RATELIMIT_STORAGE_URI", "BABEL_DEFAULT_LOCALE")}}
    | {{"mutator": m.SQL_QUERY_MUTATOR.__module__}}))
"""


def _overlay(env: dict[str, str], tmp_path: Path, python: str = sys.executable):
    full = {**os.environ, "SUPERSET_HOME": str(tmp_path / "superset_home"), **env}
    for key in ("SUPERSET_CELERY", "SUPERSET_BEHIND_PROXY"):
        full.setdefault(key, "0")
    return subprocess.run([python, "-c", PROBE.format(path=str(OVERLAY))], env=full,
                          capture_output=True, text=True)  # fmt: skip


def test_superset_overlay_reads_postgres_and_redis_from_the_environment(tmp_path) -> None:
    out = _overlay(SUPERSET_ENV, tmp_path)
    assert out.returncode == 0, out.stderr
    config = json.loads(out.stdout)
    assert config["SQLALCHEMY_DATABASE_URI"] == SUPERSET_ENV["SUPERSET_DATABASE_URI"]
    assert config["SECRET_KEY"] == SUPERSET_ENV["SUPERSET_SECRET_KEY"]
    assert config["CACHE_CONFIG"]["CACHE_TYPE"] == "RedisCache"
    assert config["DATA_CACHE_CONFIG"]["CACHE_REDIS_URL"] == "redis://:pw@redis.example:6379/3"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://:pw@redis.example:6379/5"
    # the base config is kept: locale, and the DuckDB statement guard
    assert config["BABEL_DEFAULT_LOCALE"] == "zh"
    assert config["mutator"] == "lakehouse_superset_base_config"
    # what a cluster must not run with
    sqlite = {**SUPERSET_ENV, "SUPERSET_DATABASE_URI": "sqlite:////tmp/superset.db"}
    assert "PostgreSQL" in _overlay(sqlite, tmp_path).stderr
    demo_key = {**SUPERSET_ENV, "SUPERSET_SECRET_KEY": "lakehouse-demo-secret-key-change-me"}
    assert "SUPERSET_SECRET_KEY" in _overlay(demo_key, tmp_path).stderr
    no_redis = {**SUPERSET_ENV, "SUPERSET_REDIS_URL": "", "SUPERSET_CELERY": "1"}
    assert "SUPERSET_REDIS_URL" in _overlay(no_redis, tmp_path).stderr


@pytest.mark.slow
def test_superset_loads_the_overlay(tmp_path) -> None:
    """Superset's own config module (in its environment) picks up the overlay's values."""
    if not SUPERSET_PYTHON.exists():
        pytest.fail("no .venv-superset: run `make install` (see infra/superset/README.md)")
    code = textwrap.dedent("""
        import json, superset.config as c
        print(json.dumps([c.SQLALCHEMY_DATABASE_URI, c.DATA_CACHE_CONFIG["CACHE_TYPE"],
                          c.CELERY_CONFIG.broker_url, type(c.RESULTS_BACKEND).__name__,
                          c.SQL_QUERY_MUTATOR.__module__]))
    """)
    env = {**os.environ, **SUPERSET_ENV, "SUPERSET_CELERY": "1",
           "SUPERSET_CONFIG_PATH": str(OVERLAY), "SUPERSET_HOME": str(tmp_path)}  # fmt: skip
    out = subprocess.run([str(SUPERSET_PYTHON), "-c", code], env=env, capture_output=True,
                         text=True, timeout=180)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    uri, data_cache, broker, results, mutator = json.loads(out.stdout.strip().splitlines()[-1])
    assert uri == SUPERSET_ENV["SUPERSET_DATABASE_URI"]
    assert (data_cache, broker) == ("RedisCache", "redis://:pw@redis.example:6379/0")
    assert (results, mutator) == ("RedisCache", "lakehouse_superset_base_config")


# --- a real remote endpoint: our session code against a standalone Sail server ---------------------

CLIENT = """
import json, os, sys
from pathlib import Path
lake = Path(sys.argv[1])
from deltalake import DeltaTable
from transforms.lake import session

spark = session.get_spark(lake)
embedded = session._server is not None
endpoint = spark.client._builder.endpoint
rows = [(i, f"京A{i:05d}") for i in range(5)]
spark.createDataFrame(rows, "n long, plate string").write.format("delta").save(
    str(lake / "silver" / "cluster__probe"))
spark = session.get_spark(lake)  # registers the new table by name
by_name = spark.sql("SELECT count(*) AS c, sum(n) AS s FROM silver.cluster__probe").collect()[0]
delta_rs = DeltaTable(str(lake / "silver" / "cluster__probe")).to_pyarrow_table().num_rows
print(json.dumps({"embedded": embedded, "endpoint": endpoint, "count": by_name["c"],
                  "sum": by_name["s"], "delta_rs_rows": delta_rs}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["local", "local-cluster"])
def test_session_uses_a_remote_sail_endpoint(mode: str, tmp_path: Path) -> None:
    """LAKEHOUSE_SPARK_REMOTE points get_spark() at a Sail server in another process, which writes
    and reads a Delta table in the lake. ``local-cluster`` runs Sail's driver and workers over RPC
    (the execution path of kubernetes-cluster mode, without Kubernetes)."""
    port = _free_port()
    env = {"SAIL_MODE": mode}
    if mode == "local-cluster":
        env |= {"SAIL_CLUSTER__WORKER_MAX_COUNT": "2", "SAIL_CLUSTER__WORKER_TASK_SLOTS": "2",
                "SAIL_EXECUTION__DEFAULT_PARALLELISM": "4"}  # fmt: skip
    server = _start_sail(env, port)
    lake = tmp_path / "lake"
    lake.mkdir()
    started = time.monotonic()
    try:
        _wait_port(port, server)
        client_env = {**os.environ, "LAKEHOUSE_SPARK_REMOTE": f"sc://127.0.0.1:{port}",
                      "LAKEHOUSE_LAKE": str(lake), "PYTHONPATH": str(REPO)}  # fmt: skip
        out = subprocess.run([sys.executable, "-c", CLIENT, str(lake)], env=client_env,
                             cwd=REPO, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert server.poll() is None, "the server died"
    finally:
        _stop(server)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["embedded"] is False  # no in-process Sail was started
    assert result["endpoint"] == f"127.0.0.1:{port}"
    assert (result["count"], result["sum"], result["delta_rs_rows"]) == (5, 10, 5)
    assert (lake / "silver" / "cluster__probe" / "_delta_log").is_dir()
    assert time.monotonic() - started < 60
