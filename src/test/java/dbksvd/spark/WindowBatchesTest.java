package dbksvd.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.loop.WindowPlan;
import dbksvd.synth.PlantedData;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * batching = window: iteration t reads, from every split of its window, exactly the rows its place owns (every row
 * once per epoch, with its own values), and init = samples takes the first rows of the plan's init order.
 */
class WindowBatchesTest {
  static final int D = 8, ROWS = 1000, FILES = 8;
  static final long SEED = 29;
  @TempDir static Path tmp;
  static SparkSession spark;
  static RowSource source;
  static PlantedData planted;

  @BeforeAll
  static void data() throws Exception {
    spark = TestSpark.session();
    String dir = tmp.resolve("data").toString();
    SparkGenerate.write(spark, dir, D, 16, 2, ROWS, Double.POSITIVE_INFINITY, SEED, FILES, false);
    String key = "spark.sql.files.openCostInBytes"; // a file fills a split alone: 8 splits of 125 rows
    spark.conf().set(key, Long.toString(128L << 20));
    try {
      source = RowSource.open(spark, spark.read().parquet(dir), "embedding");
      assertEquals(FILES, source.rdd().getNumPartitions());
    } finally {
      spark.conf().unset(key);
    }
    planted = new PlantedData(D, 16, 2, Double.POSITIVE_INFINITY, SEED);
  }

  /** The row ids of split s, ascending (by reading it alone). */
  static long[] idsOf(int s) {
    RowSource src = source;
    return Arrays.stream(SplitBatches.splits(source, new int[] {s}).mapPartitions(it -> List.of(src.collect(it,
        id -> true)).iterator()).collect().get(0).rowId()).sorted().toArray();
  }

  @Test
  void iterationsReadTheirPlacesOfEverySplitOfTheirWindowAndEveryRowOncePerEpoch() {
    WindowPlan plan = new WindowPlan(SplitBatches.plan(source, 5, 150), 3);
    long B = plan.batchesPerEpoch();
    assertTrue(B >= 6, B + " batches");
    long[][] ids = new long[plan.plan().splits()][];
    for (int s = 0; s < ids.length; s++) {
      ids[s] = idsOf(s);
    }
    WindowBatches batches = new WindowBatches(source, plan);
    try {
      for (int e = 0; e < 2; e++) {
        int[] seen = new int[ROWS];
        for (long t = e * B; t < (e + 1) * B; t++) {
          long w = plan.windowOf(t);
          int[] splits = plan.splitsOfWindow(w);
          List<RowSource.Block> blocks = batches.of(t).collect();
          assertEquals(splits.length, blocks.size(), "one task per split of the window");
          for (int i = 0; i < splits.length; i++) {
            int[] places = plan.placesInSplit(w, splits[i]);
            List<Long> want = new ArrayList<>();
            for (int r = 0; r < places.length; r++) {
              if (places[r] == plan.placeOf(t)) {
                want.add(ids[splits[i]][r]);
              }
            }
            RowSource.Block b = blocks.get(i);
            assertArrayEquals(want.stream().mapToLong(Long::longValue).toArray(), b.rowId(), "batch " + t
                + ", split " + splits[i] + ": its place's rows by row id");
            for (int s = 0; s < b.n(); s++) {
              assertArrayEquals(planted.rows(b.rowId()[s], 1), Arrays.copyOfRange(b.Y(), s * D, (s + 1) * D),
                  "row " + b.rowId()[s]);
              seen[(int) b.rowId()[s]]++;
            }
          }
        }
        for (int r = 0; r < ROWS; r++) {
          assertEquals(1, seen[r], "row " + r + " in epoch " + e);
        }
      }
    } finally {
      batches.close();
    }
  }

  @Test
  void initSamplesFollowThePlansOrderAcrossWindows() {
    WindowPlan plan = new WindowPlan(SplitBatches.plan(source, 7, 150), 2);
    long window0 = plan.rowsOf(0) + plan.rowsOf(1);
    WindowBatches batches = new WindowBatches(source, plan);
    try {
      for (int m : new int[] {(int) plan.rowsOf(0) + 7, (int) window0 + 40}) { // within window 0; beyond it
        float[] S = batches.initSamples(m);
        List<Long> order = new ArrayList<>();
        for (long w = 0; order.size() < m; w++) {
          int[] splits = plan.splitsOfWindow(w);
          for (int q = 0; q < plan.batchesOf(w); q++) {
            for (int s : splits) {
              long[] ids = idsOf(s);
              int[] places = plan.placesInSplit(w, s);
              for (int r = 0; r < ids.length; r++) {
                if (places[r] == q) {
                  order.add(ids[r]);
                }
              }
            }
          }
        }
        for (int i = 0; i < m; i++) {
          assertArrayEquals(planted.rows(order.get(i), 1), Arrays.copyOfRange(S, i * D, (i + 1) * D),
              "m = " + m + ", sample " + i);
        }
      }
    } finally {
      batches.close();
    }
  }
}
