package dbksvd.spark;

import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.metrics.DictionaryMetrics;
import dbksvd.synth.PlantedData;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

class SparkFitSmokeTest {
  @TempDir Path tmp;

  @Test
  void runs() throws Exception {
    SparkSession spark = SparkSession.builder().master("local[2]").appName("t")
        .config("spark.ui.enabled", "false").getOrCreate();
    String data = tmp.resolve("data").toString();
    SparkGenerate.write(spark, data, 64, 128, 4, 4000, Double.POSITIVE_INFINITY, 7, 4, false);
    RowSource src = RowSource.open(spark, spark.read().parquet(data), "embedding");
    System.out.println("rows " + src.rows + " d " + src.d + " partitions " + src.rdd().getNumPartitions());
    FitParams p = FitParams.defaults(128, 4).withBatchSize(4000).withIterations(10).withSeed(3);
    long t0 = System.nanoTime();
    FitLoop.Result r = SparkFit.fit(JavaSparkContext.fromSparkContext(spark.sparkContext()), src, p,
        im -> System.out.println(im.progressLine(10)));
    System.out.println("spark s " + (System.nanoTime() - t0) / 1e9);
    PlantedData planted = new PlantedData(64, 128, 4, Double.POSITIVE_INFINITY, 7);
    FitLoop.Result c = FitLoop.fit(planted.rows(0, 4000), 64, p, null);
    double maxDiff = 0;
    for (int i = 0; i < r.D().length; i++) maxDiff = Math.max(maxDiff, Math.abs(r.D()[i] - c.D()[i]));
    System.out.println("recovery spark " + DictionaryMetrics.recoveryRate(planted.D, 128, r.D(), 128, 64, 0.01)
        + " core " + DictionaryMetrics.recoveryRate(planted.D, 128, c.D(), 128, 64, 0.01) + " maxdiff " + maxDiff);
    spark.stop();
  }
}
