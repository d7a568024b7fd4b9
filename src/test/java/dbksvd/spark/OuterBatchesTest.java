package dbksvd.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.loop.RowOrder;
import dbksvd.synth.PlantedData;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** The rows each task holds in iteration t: exactly outer batch t, sorted, with their own values. */
class OuterBatchesTest {
  static final int D = 8, ROWS = 1000;
  static final long SEED = 21;
  @TempDir static Path tmp;
  static SparkSession spark;
  static RowSource source;

  @BeforeAll
  static void data() throws Exception {
    spark = TestSpark.session();
    String dir = tmp.resolve("data").toString();
    SparkGenerate.write(spark, dir, D, 16, 2, ROWS, Double.POSITIVE_INFINITY, SEED, 3, false);
    source = RowSource.open(spark, spark.read().parquet(dir), "embedding");
  }

  /** Checks the blocks of iteration t against RowOrder's batch and the generated rows. */
  static void assertBatch(OuterBatches outer, RowOrder order, int t, int slots) {
    assertBatch(outer, order, t, slots, true);
  }

  static void assertBatch(OuterBatches outer, RowOrder order, int t, int slots, boolean sorted) {
    List<RowSource.Block> blocks = outer.of(t).collect();
    assertTrue(blocks.size() <= Math.max(slots, source.rdd().getNumPartitions()), blocks.size() + " blocks");
    long[] all = blocks.stream().flatMapToLong(b -> Arrays.stream(b.rowId())).sorted().toArray();
    assertArrayEquals(order.batchRows(t), all, "iteration " + t);
    PlantedData planted = new PlantedData(D, 16, 2, Double.POSITIVE_INFINITY, SEED);
    for (RowSource.Block b : blocks) {
      for (int s = 1; s < b.n() && sorted; s++) {
        assertTrue(b.rowId()[s - 1] < b.rowId()[s], "a staged task's block is sorted by row id");
      }
      for (int s = 0; s < b.n(); s++) {
        assertArrayEquals(planted.rows(b.rowId()[s], 1), Arrays.copyOfRange(b.Y(), s * D, (s + 1) * D),
            "row " + b.rowId()[s]);
      }
    }
  }

  @Test
  void stagedBatchesOverSeveralEpochs() {
    RowOrder order = new RowOrder(4, ROWS, 300); // 4 batches per epoch, the last one of 100 rows
    OuterBatches outer = new OuterBatches(source, order, 2);
    assertTrue(outer.staging());
    try {
      for (int t = 0; t < 6; t++) { // epoch 0 and half of epoch 1: staged again at t = 4
        assertBatch(outer, order, t, 2);
      }
    } finally {
      outer.close();
    }
  }

  @Test
  void oneBatchPerEpochIsTheWholeDataset() {
    RowOrder order = new RowOrder(4, ROWS, 5000);
    OuterBatches outer = new OuterBatches(source, order, 2);
    assertTrue(!outer.staging());
    try {
      assertBatch(outer, order, 0, 2, false);
      assertBatch(outer, order, 1, 2, false);
      assertEquals(ROWS, order.batchRows(1).length);
    } finally {
      outer.close();
    }
  }
}
