package dbksvd.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.linalg.BlasLibrary;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

/** The tasks run the BLAS the driver chose, and the executors' environment carries the choice. */
class TaskBlasTest {
  @Test
  void tasksRunTheDriversBlas() {
    SparkSession spark = TestSpark.session();
    SparkConf conf = spark.sparkContext().getConf();
    String setting = conf.get(TaskBlas.KEY);
    assertEquals(BlasLibrary.current().setting(), setting, "the session's setting is the driver's");
    assertEquals(setting, conf.get(TaskBlas.EXECUTOR_ENV), "and the executors' environment variable");
    String driver = BlasLibrary.current().describe() + " @ " + BlasLibrary.current().path();
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<String> tasks = sc.parallelize(IntStream.range(0, 8).boxed().toList(), 8).map(i -> {
      TaskGemm.current(); // what an encode task does before its first GEMM
      return BlasLibrary.current().describe() + " @ " + BlasLibrary.current().path();
    }).collect();
    assertEquals(8, tasks.size());
    for (String t : tasks) {
      assertEquals(driver, t);
    }
    assertTrue(driver.contains("OpenBLAS"), driver);
  }
}
