#!/usr/bin/env bash
# Spark's GPU discovery script (spark.{executor,driver,worker}.resource.gpu.discoveryScript): prints the GPUs of
# this node as Spark's ResourceInformation JSON, {"name": "gpu", "addresses": ["0", "1", ...]}, from nvidia-smi.
# The addresses are CUDA device ordinals; Spark hands each task its own, and dbksvd opens that device.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "get-gpus.sh: nvidia-smi not found: this node has no NVIDIA driver" >&2
  exit 1
fi
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ' | grep -E '^[0-9]+$' || true)
if [ -z "$ids" ]; then
  echo "get-gpus.sh: nvidia-smi lists no GPU" >&2
  exit 1
fi
printf '{"name": "gpu", "addresses": [%s]}\n' "$(printf '"%s"\n' $ids | paste -sd, -)"
