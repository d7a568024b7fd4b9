#!/usr/bin/env bash
# dbksvd on YARN in cluster mode: the driver runs in the application master, the conf file travels with --files.
#   deploy/spark-submit/yarn.sh [--dry-run] [--conf-file FILE] [--jar JAR] COMMAND [dbksvd options...]
# Also from the environment: QUEUE (default: default), APP_NAME, and the sizing of common.sh (--help lists them).
# Needs HADOOP_CONF_DIR (or YARN_CONF_DIR) pointing at the cluster's configuration, as every YARN submission does.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_args "$@"
find_jar
common_conf
cmd=("$(spark_submit_bin)"
  --master yarn --deploy-mode cluster
  --name "${APP_NAME:-dbksvd-${dbksvd_args[0]}}"
  --queue "${QUEUE:-default}"
  --class dbksvd.cli.Main
  "${conf_args[@]}"
  "$jar" "${dbksvd_args[@]}")
run_or_print "${cmd[@]}"
