package dbksvd.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.update.Update;
import dbksvd.metrics.DictionaryMetrics;
import dbksvd.synth.PlantedData;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The Spark job on a real local Spark over real Parquet files. */
class SparkFitTest {
  static final int D = 64, M = 128, K = 4, ROWS = 6000;
  static final long DATA_SEED = 11;

  @TempDir static Path tmp;
  static SparkSession spark;
  static JavaSparkContext sc;

  @BeforeAll
  static void data() throws Exception {
    spark = TestSpark.session();
    sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    SparkGenerate.write(spark, dir(1), D, M, K, ROWS, Double.POSITIVE_INFINITY, DATA_SEED, 1, false);
    SparkGenerate.write(spark, dir(4), D, M, K, ROWS, Double.POSITIVE_INFINITY, DATA_SEED, 4, false);
  }

  static String dir(int files) {
    return tmp.resolve("planted-" + files).toString();
  }

  static RowSource open(int files) {
    return RowSource.open(spark, spark.read().parquet(dir(files)), "embedding");
  }

  @Test
  void rowIdsFollowTheGeneratedOrder() {
    RowSource src = open(4);
    assertEquals(ROWS, src.rows);
    assertEquals(D, src.d);
    PlantedData planted = new PlantedData(D, M, K, Double.POSITIVE_INFINITY, DATA_SEED);
    var blocks = src.rdd().mapPartitions(it -> java.util.List.of(src.collect(it, id -> id % 997 == 5)).iterator())
        .collect();
    int seen = 0;
    for (RowSource.Block b : blocks) {
      for (int s = 0; s < b.n(); s++) {
        float[] want = planted.rows(b.rowId()[s], 1);
        for (int i = 0; i < D; i++) {
          assertEquals(want[i], b.Y()[s * D + i], "row " + b.rowId()[s]);
        }
        seen++;
      }
    }
    assertEquals(7, seen); // ids 5, 1002, …, 5987
  }

  @Test
  void recoversNinetyPercentOfPlantedAtoms() {
    for (FitParams p : new FitParams[] {
        FitParams.builder(M, K).update(new Update.GaussSeidel(4)).build(),
        FitParams.builder(M, K).update(new Update.Jacobi(3)).build()}) {
      p = p.toBuilder().batchSize(3000).iterations(40).seed(1).build();
      FitLoop.Result r = SparkFit.fit(sc, open(4), p, null);
      PlantedData planted = new PlantedData(D, M, K, Double.POSITIVE_INFINITY, DATA_SEED);
      double rec = DictionaryMetrics.recoveryRate(planted.D, M, r.D(), M, D, 0.01);
      System.out.printf("Spark fit d=%d m=%d k=%d rows=%d n=3000 T=40, update %s (%d passes): recovery %.3f, last FVE "
          + "%.4f%n", D, M, K, ROWS, p.update().name(), p.update().passes(), rec, r.history().get(39).fve());
      assertTrue(rec >= 0.90, p.update() + " recovery " + rec);
    }
  }

  @Test
  void sameDictionaryAsTheSingleMachineCoreForOneAndFourPartitions() {
    for (FitParams p : new FitParams[] {
        FitParams.builder(M, K).update(new Update.GaussSeidel(4)).build(),
        FitParams.builder(M, K).update(new Update.Jacobi(1)).build(),
        FitParams.builder(M, K).update(new Update.Jacobi(3)).build(),
        FitParams.builder(M, K).update(new Update.JacobiBatches(4, 2)).build()}) {
      sameDictionaryAsTheCore(p.toBuilder().batchSize(2500).iterations(8).seed(5).build());
    }
  }

  void sameDictionaryAsTheCore(FitParams p) {
    PlantedData planted = new PlantedData(D, M, K, Double.POSITIVE_INFINITY, DATA_SEED);
    FitLoop.Result core = FitLoop.fit(planted.rows(0, ROWS), D, p, null);
    for (int files : new int[] {1, 4}) {
      // a file's open cost as large as a partition's budget: Spark gives each file its own partition
      spark.conf().set("spark.sql.files.openCostInBytes", "134217728");
      RowSource src;
      try {
        src = open(files);
      } finally {
        spark.conf().unset("spark.sql.files.openCostInBytes");
      }
      assertEquals(files, src.rdd().getNumPartitions());
      FitLoop.Result onSpark = SparkFit.fit(sc, src, p, null);
      double maxDiff = 0;
      for (int i = 0; i < core.D().length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(core.D()[i] - onSpark.D()[i]));
      }
      System.out.printf("Spark (%d file(s), %d partitions) vs core after 8 iterations, update %s (%d passes): "
          + "max |ΔD| = %.2e%n", files, src.rdd().getNumPartitions(), 
          p.update().name(), p.update().passes(), maxDiff);
      assertTrue(maxDiff <= 1e-5, "max |ΔD| " + maxDiff + " with " + files + " file(s)");
      assertEquals(0.0, maxDiff, "D is bit-identical for any partitioning (GEMM lanes)");
      for (int t = 0; t < 8; t++) {
        assertEquals(core.history().get(t).fve(), onSpark.history().get(t).fve(), 1e-6);
      }
    }
  }

  @Test
  void matryoshkaRunsOnSpark() {
    for (Update update : new Update[] {new Update.GaussSeidel(4), new Update.Jacobi(2)}) {
      FitParams p = FitParams.builder(M, 6).batchSize(2000).iterations(4).seed(2)
          .matryoshka(FitParams.Matryoshka.of(4)).update(update).build();
      FitLoop.Result core = FitLoop.fit(new PlantedData(D, M, K, Double.POSITIVE_INFINITY, DATA_SEED).rows(0, ROWS),
          D, p, null);
      FitLoop.Result onSpark = SparkFit.fit(sc, open(4), p, null);
      double maxDiff = 0;
      for (int i = 0; i < core.D().length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(core.D()[i] - onSpark.D()[i]));
      }
      assertEquals(0.0, maxDiff, update + " matryoshka: D bit-identical");
    }
  }
}
