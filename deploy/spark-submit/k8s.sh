#!/usr/bin/env bash
# dbksvd on Kubernetes in cluster mode, with the image of deploy/kubernetes/Dockerfile (jar at /opt/dbksvd/dbksvd.jar).
#   deploy/spark-submit/k8s.sh [--dry-run] [--conf-file FILE] [--jar JAR] COMMAND [dbksvd options...]
# From the environment:
#   K8S_MASTER   the API server, e.g. https://10.0.0.1:6443 (required; "kubectl cluster-info" shows it)
#   IMAGE        the image (default: dbksvd:0.1.0), NAMESPACE (default: default),
#   SERVICE_ACCOUNT (default: spark; it must be allowed to create pods), APP_NAME
#   UPLOAD_PATH  where spark-submit uploads a local --conf-file for the driver pod (e.g. s3a://bucket/spark-upload);
#                required with --conf-file
# and the sizing of common.sh (--help lists it). The jar defaults to the one in the image.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
jar="${DBKSVD_JAR:-local:///opt/dbksvd/dbksvd.jar}"
parse_args "$@"
common_conf
if [ -z "${K8S_MASTER:-}" ]; then
  if [ "$dry_run" = 1 ]; then
    K8S_MASTER="https://KUBERNETES-API:6443"
  else
    echo "k8s.sh: set K8S_MASTER to the Kubernetes API server (kubectl cluster-info shows it)" >&2
    exit 2
  fi
fi
upload=()
if [ -n "$conf_file" ]; then
  if [ -z "${UPLOAD_PATH:-}" ]; then
    echo "k8s.sh: --conf-file needs UPLOAD_PATH (a path the driver pod can read, e.g. s3a://bucket/spark-upload)," \
      "or bake the file into the image" >&2
    exit 2
  fi
  upload=(--conf "spark.kubernetes.file.upload.path=$UPLOAD_PATH")
fi
cmd=("$(spark_submit_bin)"
  --master "k8s://$K8S_MASTER" --deploy-mode cluster
  --name "${APP_NAME:-dbksvd-${dbksvd_args[0]}}"
  --class dbksvd.cli.Main
  --conf "spark.kubernetes.container.image=${IMAGE:-dbksvd:0.1.0}"
  --conf "spark.kubernetes.namespace=${NAMESPACE:-default}"
  --conf "spark.kubernetes.authenticate.driver.serviceAccountName=${SERVICE_ACCOUNT:-spark}"
  "${upload[@]}"
  "${conf_args[@]}"
  "$jar" "${dbksvd_args[@]}")
run_or_print "${cmd[@]}"
