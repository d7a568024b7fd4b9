"""dbksvd on Airflow with SparkSubmitOperator: fit, then evaluate the model it wrote.

Needs the Apache Spark provider (apache-airflow-providers-apache-spark) and a Spark connection (default
"spark_default") whose host is the cluster's master (yarn, k8s://https://..., spark://...) and whose extra sets
"deploy-mode": "cluster". The jar and the conf file must be readable where spark-submit runs. Sizing for the
paper's shape (d = 2304, m = 4096, n = 65536, k = 20): see deploy/README.md.
"""
from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

JAR = "/opt/dbksvd/dbksvd.jar"
CONF_FILE = "/opt/dbksvd/dbksvd.conf"  # shipped with --files; dbksvd opens it by its name in the working directory
DATA = "s3a://my-bucket/embeddings"
MODEL = "s3a://my-bucket/models/{{ ds_nodash }}"

# --resume: a retried fit continues from its newest checkpoint instead of starting over
FIT_ARGS = ["fit", "--input", DATA, "--output", MODEL, "--atoms", "4096", "--k", "20", "--batch-size", "65536",
            "--iterations", "40", "--conf", "dbksvd.conf", "--resume"]
EVALUATE_ARGS = ["evaluate", "--model", MODEL, "--input", DATA, "--json", MODEL + ".evaluation.json",
                 "--conf", "dbksvd.conf"]

SPARK_CONF = {
    "spark.executorEnv.OPENBLAS_NUM_THREADS": "1",  # one BLAS thread per Spark task
    "spark.executor.instances": "8",
    "spark.executor.memoryOverhead": "1g",
}

with DAG(
    dag_id="dbksvd_fit_evaluate",
    start_date=datetime(2025, 1, 1),
    schedule=None,
    catchup=False,
    tags=["dbksvd"],
) as dag:
    common = dict(
        application=JAR,
        java_class="dbksvd.cli.Main",
        conn_id="spark_default",
        conf=SPARK_CONF,
        files=CONF_FILE,
        driver_memory="4g",
        executor_memory="6g",
        executor_cores=2,
    )
    fit = SparkSubmitOperator(task_id="fit", name="dbksvd-fit", application_args=FIT_ARGS, retries=2, **common)
    evaluate = SparkSubmitOperator(task_id="evaluate", name="dbksvd-evaluate", application_args=EVALUATE_ARGS,
                                   **common)
    fit >> evaluate
