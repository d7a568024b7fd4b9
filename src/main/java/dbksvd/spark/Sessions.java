package dbksvd.spark;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.Map;

/** Starts (or joins) the Spark session a command runs on. */
public final class Sessions {
  private Sessions() {}

  /**
   * Under spark-submit (spark.master already set) the submitted settings win; started from bin/dbksvd, dbksvd
   * starts an embedded Spark with {@code dbksvd.spark.master} (local[*] by default). Kryo serialises the blocks. The
   * native BLAS ({@code dbksvd.blas.library}) is chosen here for the driver and the executors ({@link TaskBlas}).
   */
  public static SparkSession start(Config c) {
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master")) {
      conf.setMaster(c.getString("dbksvd.spark.master"));
    }
    if (!conf.contains("spark.app.name")) {
      conf.setAppName(c.getString("dbksvd.spark.app-name"));
    }
    conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    conf.setIfMissing("spark.kryo.registrator", KryoSetup.class.getName());
    // task results up to the RPC limit go straight to the driver: the Jacobi update's partial sums (m·d doubles per
    // task) took 0.5-1.3 s per pass through the block manager, 0.1-0.3 s directly (two tasks, m·d = 9.4 M)
    conf.setIfMissing("spark.task.maxDirectResultSize", "128m");
    // shuffles without map-side combine (the staging pass of batching = rows: every row to its batch) are written
    // once by Spark's serialized writer, not first into one file per reduce partition and then concatenated (the
    // "bypass" path Spark takes below 200 partitions): 655,360 rows of d = 2304 (5.7 GB) staged in 29-30 s instead
    // of 36-41 s, 11 s less system time
    conf.setIfMissing("spark.shuffle.sort.bypassMergeThreshold", "0");
    // what dbksvd shuffles is floats and exact double sums, which lz4 barely shrinks: uncompressed, the Jacobi pass's
    // sums (m·(d + 3) doubles per executor and pass) skip a compression and a decompression — update 3.15-3.30 ->
    // 2.76-2.78 s per iteration at 655,360 x 2304, m = 4096 (2 vCPUs, docs/benchmarks.md), the same bits
    conf.setIfMissing("spark.shuffle.compress", "false");
    conf.setIfMissing(TaskGemm.KEY, c.getString("dbksvd.gemm.backend"));
    conf.setIfMissing("spark.ui.showConsoleProgress", "false");
    conf.setIfMissing("spark.ui.enabled", Boolean.toString(c.getBoolean("dbksvd.spark.ui")));
    for (Map.Entry<String, ConfigValue> e : c.getConfig("dbksvd.spark.conf").entrySet()) {
      String key = e.getKey().replace("\"", "");
      conf.set(key, String.valueOf(e.getValue().unwrapped()));
    }
    // the native BLAS, for the executors' environment and loaded here first: a bad path fails before any job
    TaskBlas.apply(conf, c.getString("dbksvd.blas.library"));
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    spark.sparkContext().setLogLevel(c.getString("dbksvd.spark.log-level"));
    TaskGemm.check(spark.sparkContext().getConf(), c.getString("dbksvd.gemm.backend"));
    return spark;
  }
}
