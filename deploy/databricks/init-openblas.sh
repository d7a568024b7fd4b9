#!/bin/bash
# Databricks cluster init script: native OpenBLAS on every node (dbksvd's BLAS falls back to pure Java, ~15x
# slower, without it). Upload to the workspace as /Shared/dbksvd/init-openblas.sh (job.json, cluster.json name it).
set -euo pipefail
if ! ldconfig -p | grep -q 'libopenblas\.so\.0'; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread
fi
