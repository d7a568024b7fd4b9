"""dbksvd on Airflow with Databricks: fit, then evaluate, each a spark_jar_task on a new job cluster.

Needs the Databricks provider (apache-airflow-providers-databricks) and a connection "databricks_default". The
cluster and the tasks are those of deploy/databricks/job.json; upload the jar to the volume named below first (it
carries its native BLAS: no init script).
"""
from datetime import datetime

from airflow import DAG
from airflow.providers.databricks.operators.databricks import DatabricksSubmitRunOperator

JAR = "/Volumes/main/default/jars/dbksvd-0.1.0-SNAPSHOT.jar"
DATA = "s3a://my-bucket/embeddings"
MODEL = "s3a://my-bucket/models/{{ ds_nodash }}"

FIT_ARGS = ["fit", "--input", DATA, "--output", MODEL, "--atoms", "4096", "--k", "20", "--batch-size", "65536",
            "--iterations", "40", "--resume"]
EVALUATE_ARGS = ["evaluate", "--model", MODEL, "--input", DATA, "--json", MODEL + ".evaluation.json"]

NEW_CLUSTER = {
    "spark_version": "17.3.x-scala2.13",
    "node_type_id": "r5d.2xlarge",
    "num_workers": 4,
    "spark_conf": {"spark.executorEnv.OPENBLAS_NUM_THREADS": "1", "spark.task.maxDirectResultSize": "128m",
                   "spark.shuffle.sort.bypassMergeThreshold": "0"},
    "spark_env_vars": {"OPENBLAS_NUM_THREADS": "1"},
}


def jar_task(args):
    return {"main_class_name": "dbksvd.cli.Main", "parameters": args}


with DAG(
    dag_id="dbksvd_fit_evaluate_databricks",
    start_date=datetime(2025, 1, 1),
    schedule=None,
    catchup=False,
    tags=["dbksvd"],
) as dag:
    fit = DatabricksSubmitRunOperator(task_id="fit", new_cluster=NEW_CLUSTER, spark_jar_task=jar_task(FIT_ARGS),
                                      libraries=[{"jar": JAR}], retries=2)
    evaluate = DatabricksSubmitRunOperator(task_id="evaluate", new_cluster=NEW_CLUSTER,
                                           spark_jar_task=jar_task(EVALUATE_ARGS), libraries=[{"jar": JAR}])
    fit >> evaluate
