#!/usr/bin/env bash
# dbksvd on a GPU cluster (YARN by default; MASTER=k8s://… or spark://… for others), cluster mode: every executor
# gets GPUS_PER_EXECUTOR GPUs, every task an equal share, and each task runs DᵀY on the GPU Spark assigned to it
# (dbksvd.gemm.backend = auto: cuBLAS when CUDA starts there, else the CPU, logged once per executor).
#   deploy/spark-submit/gpu.sh [--dry-run] [--conf-file FILE] [--jar JAR] COMMAND [dbksvd options...]
# The jar must be the CUDA build (mvn -Pcuda package -DskipTests); the nodes need the NVIDIA driver and the CUDA 12
# runtime (libcudart.so.12, libcublas.so.12). The RAPIDS plugin is supplied here, not bundled: --packages
# com.nvidia:rapids-4-spark_2.13:$RAPIDS_VERSION (or RAPIDS_JAR=/path/rapids-4-spark_2.13-….jar where the
# cluster has no Maven access). It schedules GPU memory and runs the Parquet scan on the GPU; the GEMMs are dbksvd's.
# Environment: MASTER (default yarn), RAPIDS_VERSION (default 25.10.0, the first with Spark 4.0.1), RAPIDS_JAR,
# GPUS_PER_EXECUTOR (default 1), BACKEND (auto; cuda fails instead of falling back), QUEUE, APP_NAME, and the sizing
# of common.sh (--help lists it). See deploy/gpu/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_args "$@"
find_jar
common_conf
cores=${EXECUTOR_CORES:-2}
gpus=${GPUS_PER_EXECUTOR:-1}
discovery="$(cd "$(dirname "${BASH_SOURCE[0]}")/../gpu" && pwd)/get-gpus.sh"
if [ -n "${RAPIDS_JAR:-}" ]; then
  rapids=(--jars "$RAPIDS_JAR")
else
  rapids=(--packages "com.nvidia:rapids-4-spark_2.13:${RAPIDS_VERSION:-25.10.0}")
fi
# one --files for both the conf file (common.sh) and the discovery script
files="$discovery"
kept=()
for ((i = 0; i < ${#conf_args[@]}; i++)); do
  if [ "${conf_args[$i]}" = --files ]; then
    files="${conf_args[$((i + 1))]},$files"
    i=$((i + 1))
  else
    kept+=("${conf_args[$i]}")
  fi
done
conf_args=("${kept[@]}")
master=${MASTER:-yarn}
extra=()
if [ "$master" = yarn ]; then
  extra=(--queue "${QUEUE:-default}")
fi
cmd=("$(spark_submit_bin)"
  --master "$master" --deploy-mode cluster
  --name "${APP_NAME:-dbksvd-gpu-${dbksvd_args[0]}}"
  "${extra[@]}"
  --class dbksvd.cli.Main
  "${conf_args[@]}"
  "${rapids[@]}"
  --files "$files"
  --conf spark.plugins=com.nvidia.spark.SQLPlugin
  --conf "spark.executor.resource.gpu.amount=$gpus"
  --conf "spark.executor.resource.gpu.discoveryScript=./get-gpus.sh"
  --conf "spark.task.resource.gpu.amount=$(awk -v g="$gpus" -v c="$cores" 'BEGIN { printf "%.4g", g / c }')"
  --conf spark.rapids.sql.concurrentGpuTasks=1
  --conf spark.rapids.memory.pinnedPool.size=2g
  --conf "spark.dbksvd.gemm.backend=${BACKEND:-auto}"
  "$jar" "${dbksvd_args[@]}")
run_or_print "${cmd[@]}"
