#!/usr/bin/env bash
# Start an Apache Spark 4 Spark Connect server with Delta Lake (Delta Connect) for the lakehouse.
#
#   SPARK_HOME=/opt/spark DELTA_VERSION=<x.y.z> infra/cluster/spark-connect/start-connect-server.sh
#
# Environment (site-specific; nothing else needs editing):
#   SPARK_HOME              Apache Spark 4.x distribution (spark-4.x.y-bin-hadoop3)       required
#   DELTA_VERSION           io.delta:delta-connect-server_2.13 release built for that Spark
#                           minor version (Delta's compatibility table)                    required
#   SPARK_MASTER            local[*] (one big machine) or k8s://https://kubernetes.default.svc
#                                                                              default local[*]
#   SPARK_K8S_NAMESPACE, SPARK_K8S_IMAGE, SPARK_K8S_SERVICE_ACCOUNT, SPARK_DRIVER_HOST
#                           with a k8s:// master: executor pods' namespace, image (Spark +
#                           the same Delta jars), service account, and this pod's IP
#   SPARK_EXECUTORS_MAX     dynamic allocation ceiling                                 default 8
#   SPARK_EXECUTOR_CORES, SPARK_EXECUTOR_MEMORY                              default 4 / 16g
#   SPARK_DRIVER_MEMORY                                                          default 8g
#   LAKE_VOLUME_CLAIM, LAKE_MOUNT_PATH
#                           the shared lake volume (RWX PVC) mounted into executor pods at the
#                           same path as in every other pod (LAKEHOUSE_LAKE)
#   S3_ENDPOINT             s3a endpoint for an S3-compatible object store (credentials: the
#                           standard AWS_* variables or the pod's identity)             optional
#   SPARK_EXTRA_PACKAGES    comma-separated extra Maven coordinates (e.g. hadoop-aws)  optional
#   PROTOBUF_VERSION        protobuf-java next to the Delta Connect server       default 3.25.1
#   SPARK_CONNECT_FOREGROUND=1  run in the foreground (container entrypoint)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${SPARK_HOME:?set SPARK_HOME to an Apache Spark 4.x distribution}"
: "${DELTA_VERSION:?set DELTA_VERSION to the delta-connect-server release for this Spark}"
MASTER="${SPARK_MASTER:-local[*]}"

# Delta's documented server command also puts protobuf-java on the classpath
packages="io.delta:delta-connect-server_2.13:${DELTA_VERSION},com.google.protobuf:protobuf-java:${PROTOBUF_VERSION:-3.25.1}"
if [ -n "${SPARK_EXTRA_PACKAGES:-}" ]; then packages="$packages,$SPARK_EXTRA_PACKAGES"; fi

args=(
    --master "$MASTER"
    --properties-file "$HERE/spark-defaults.conf"
    --packages "$packages"
    --driver-memory "${SPARK_DRIVER_MEMORY:-8g}"
    --conf "spark.executor.cores=${SPARK_EXECUTOR_CORES:-4}"
    --conf "spark.executor.memory=${SPARK_EXECUTOR_MEMORY:-16g}"
    --conf "spark.dynamicAllocation.maxExecutors=${SPARK_EXECUTORS_MAX:-8}"
)

case "$MASTER" in
    k8s://*)
        : "${SPARK_K8S_NAMESPACE:?with a k8s:// master set SPARK_K8S_NAMESPACE}"
        : "${SPARK_K8S_IMAGE:?with a k8s:// master set SPARK_K8S_IMAGE (Spark + Delta jars)}"
        : "${SPARK_DRIVER_HOST:?with a k8s:// master set SPARK_DRIVER_HOST (the IP of this pod)}"
        args+=(
            --conf "spark.kubernetes.namespace=$SPARK_K8S_NAMESPACE"
            --conf "spark.kubernetes.container.image=$SPARK_K8S_IMAGE"
            --conf "spark.kubernetes.authenticate.driver.serviceAccountName=${SPARK_K8S_SERVICE_ACCOUNT:-spark-connect}"
            --conf "spark.driver.host=$SPARK_DRIVER_HOST"
            --conf "spark.driver.bindAddress=0.0.0.0"
            --conf "spark.kubernetes.executor.deleteOnTermination=true"
        )
        if [ -n "${LAKE_VOLUME_CLAIM:-}" ]; then
            : "${LAKE_MOUNT_PATH:?set LAKE_MOUNT_PATH with LAKE_VOLUME_CLAIM}"
            vol="spark.kubernetes.executor.volumes.persistentVolumeClaim.lake"
            args+=(
                --conf "$vol.options.claimName=$LAKE_VOLUME_CLAIM"
                --conf "$vol.mount.path=$LAKE_MOUNT_PATH"
                --conf "$vol.mount.readOnly=false"
            )
        fi
        ;;
esac

# Several writers to one Delta table on S3 need a commit coordinator (S3DynamoDBLogStore, or the
# store's conditional writes): the lakehouse keeps ONE writer per lake instead.
if [ -n "${S3_ENDPOINT:-}" ]; then
    args+=(
        --conf "spark.hadoop.fs.s3a.endpoint=$S3_ENDPOINT"
        --conf "spark.hadoop.fs.s3a.path.style.access=true"
    )
fi

if [ "${SPARK_CONNECT_FOREGROUND:-0}" = "1" ]; then
    export SPARK_NO_DAEMONIZE=1  # spark-daemon.sh then runs the server as this process's child
fi
exec "$SPARK_HOME/sbin/start-connect-server.sh" "${args[@]}"
