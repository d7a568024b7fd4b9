# Shared by yarn.sh and k8s.sh (sourced, not run): parses the options, finds the jar, prints or runs the command.
#
#   SCRIPT [--dry-run] [--conf-file FILE] [--jar JAR] COMMAND [dbksvd options...]
#
# --dry-run        print the spark-submit command line (shell-quoted, one line) instead of running it
# --conf-file F    a HOCON file of dbksvd settings: shipped with --files to the driver's working directory and
#                  passed to dbksvd as --conf BASENAME (dbksvd reads it on the driver)
# --jar JAR        the application jar (default: $DBKSVD_JAR, else target/dbksvd-*.jar of this checkout)
# COMMAND ...      a dbksvd command and its flags, e.g. fit --input s3a://b/emb --output s3a://b/models/run1
#
# Sizing, from the environment; the defaults suit the paper's shape (d = 2304, m = 4096, n = 65536, k = 20), see
# deploy/README.md for the reasoning:
#   NUM_EXECUTORS=8 EXECUTOR_CORES=2 EXECUTOR_MEMORY=6g EXECUTOR_MEMORY_OVERHEAD=1g DRIVER_MEMORY=4g
# SPARK_SUBMIT: the spark-submit to run (default: $SPARK_HOME/bin/spark-submit, else spark-submit on PATH).
# Spark's JVM module options (conf/jvm-options, Vector API included) are added by spark-submit itself in Spark 4.0.

dry_run=0
conf_file=""
jar="${DBKSVD_JAR:-}"
dbksvd_args=()

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) dry_run=1; shift ;;
      --conf-file) conf_file="${2:?--conf-file needs a file}"; shift 2 ;;
      --jar) jar="${2:?--jar needs a path}"; shift 2 ;;
      -h|--help) sed -n '3,15p' "$(dirname "${BASH_SOURCE[0]}")/common.sh" | sed 's/^# \{0,1\}//'; exit 0 ;;
      --) shift; break ;;
      -*) echo "$(basename "$0"): unknown option $1 (the dbksvd command comes first, then its flags)" >&2; exit 2 ;;
      *) break ;;
    esac
  done
  if [ $# -eq 0 ]; then
    echo "$(basename "$0"): no dbksvd command given (e.g. fit --input DATA --output MODEL_DIR); see --help" >&2
    exit 2
  fi
  dbksvd_args=("$@")
  if [ -n "$conf_file" ]; then
    if [ ! -f "$conf_file" ]; then
      echo "$(basename "$0"): --conf-file $conf_file does not exist" >&2
      exit 2
    fi
    # shipped by --files into the driver's working directory, where dbksvd opens it by its name
    dbksvd_args+=(--conf "$(basename "$conf_file")")
  fi
}

find_jar() {
  if [ -z "$jar" ]; then
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    jar=$(ls "$root"/target/dbksvd-*.jar 2>/dev/null | grep -v -e sources -e tests | head -n 1 || true)
    if [ -z "$jar" ]; then
      if [ "$dry_run" = 1 ]; then
        jar="$root/target/dbksvd-VERSION.jar"
      else
        echo "$(basename "$0"): no jar; build it (mvn -q -B package -DskipTests) or pass --jar" >&2
        exit 2
      fi
    fi
  fi
}

spark_submit_bin() {
  if [ -n "${SPARK_SUBMIT:-}" ]; then
    echo "$SPARK_SUBMIT"
  elif [ -n "${SPARK_HOME:-}" ]; then
    echo "$SPARK_HOME/bin/spark-submit"
  else
    echo spark-submit
  fi
}

# The settings every deployment needs, whatever the cluster manager.
common_conf() {
  local executors=${NUM_EXECUTORS:-8} cores=${EXECUTOR_CORES:-2}
  conf_args=(
    --driver-memory "${DRIVER_MEMORY:-4g}"
    --executor-memory "${EXECUTOR_MEMORY:-6g}"
    --executor-cores "$cores"
    --conf "spark.executor.instances=$executors"
    # off-heap room beside the heap: OpenBLAS buffers, Netty's shuffle buffers; YARN and Kubernetes kill a
    # container that outgrows memory + overhead
    --conf "spark.executor.memoryOverhead=${EXECUTOR_MEMORY_OVERHEAD:-1g}"
    # one Spark task per core and one BLAS thread per task (OpenBLAS would otherwise start a thread per core in
    # every task)
    --conf spark.executorEnv.OPENBLAS_NUM_THREADS=1
  )
  if [ -n "$conf_file" ]; then
    conf_args+=(--files "$conf_file")
  fi
}

run_or_print() {
  if [ "$dry_run" = 1 ]; then
    printf '%q ' "$@"
    echo
  else
    exec "$@"
  fi
}
