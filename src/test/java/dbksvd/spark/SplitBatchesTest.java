package dbksvd.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.config.ZeroRows;
import dbksvd.loop.BatchPlan;
import dbksvd.synth.PlantedData;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * batching = splits: the plan counts the rows of every input split, iteration t reads exactly the splits of batch t
 * (every row once per epoch, with its own values), and init = samples takes the first rows of batch 0.
 */
class SplitBatchesTest {
  static final int D = 8, ROWS = 1000, FILES = 8;
  static final long SEED = 23;
  @TempDir static Path tmp;
  static SparkSession spark;
  static RowSource source;

  @BeforeAll
  static void data() throws Exception {
    spark = TestSpark.session();
    String dir = tmp.resolve("data").toString();
    SparkGenerate.write(spark, dir, D, 16, 2, ROWS, Double.POSITIVE_INFINITY, SEED, FILES, false);
    source = RowSource.open(spark, spark.read().parquet(dir), "embedding");
  }

  /** Per split of batch t, its rows sorted by id (checked against the planted rows). */
  static Map<Integer, long[]> read(SplitBatches batches, BatchPlan plan, int t) {
    int[] splits = plan.splitsOf(t);
    List<RowSource.Block> blocks = batches.of(t).collect();
    assertEquals(splits.length, blocks.size(), "one task per split");
    PlantedData planted = new PlantedData(D, 16, 2, Double.POSITIVE_INFINITY, SEED);
    Map<Integer, long[]> ids = new HashMap<>();
    for (int i = 0; i < splits.length; i++) {
      RowSource.Block b = blocks.get(i);
      assertEquals(plan.splitRows(splits[i]), b.n(), "split " + splits[i]);
      for (int s = 0; s < b.n(); s++) {
        assertArrayEquals(planted.rows(b.rowId()[s], 1), Arrays.copyOfRange(b.Y(), s * D, (s + 1) * D),
            "row " + b.rowId()[s]);
      }
      ids.put(splits[i], Arrays.stream(b.rowId()).sorted().toArray());
    }
    return ids;
  }

  @Test
  void iterationsReadTheirSplitsAndEveryRowOncePerEpoch() {
    BatchPlan plan = SplitBatches.plan(source, 5, 300);
    assertArrayEquals(SplitBatches.countRows(source), source.splitRows(null),
        "the rows per split from the files' counts are those a job counts");
    assertEquals(source.rdd().getNumPartitions(), plan.splits());
    assertEquals(ROWS, plan.rows());
    long B = plan.batchesPerEpoch();
    assertTrue(B > 1, B + " batches");
    SplitBatches batches = new SplitBatches(source, plan);
    for (int e = 0; e < 2; e++) {
      int[] seen = new int[ROWS];
      for (long t = e * B; t < (e + 1) * B; t++) {
        for (long[] ids : read(batches, plan, (int) t).values()) {
          for (long id : ids) {
            seen[(int) id]++;
          }
        }
      }
      for (int r = 0; r < ROWS; r++) {
        assertEquals(1, seen[r], "row " + r + " in epoch " + e);
      }
    }
  }

  @Test
  void initSamplesAreTheFirstRowsOfBatchZeroByRowIdPerSplit() {
    BatchPlan plan = SplitBatches.plan(source, 5, 300);
    SplitBatches batches = new SplitBatches(source, plan);
    int m = (int) Math.min(plan.rowsOf(0), plan.splitRows(plan.order(0)[0]) + 10);
    float[] S = batches.initSamples(m);
    Map<Integer, long[]> ids = read(batches, plan, 0);
    PlantedData planted = new PlantedData(D, 16, 2, Double.POSITIVE_INFINITY, SEED);
    int at = 0;
    for (long[] take : plan.initTake(m)) {
      long[] split = ids.get((int) take[0]);
      assertTrue(split != null, "split " + take[0] + " is in batch 0");
      for (int s = 0; s < take[1]; s++, at++) {
        assertArrayEquals(planted.rows(split[s], 1), Arrays.copyOfRange(S, at * D, (at + 1) * D), "sample " + at);
      }
    }
    assertEquals(m, at);
  }

  /**
   * Files larger than maxPartitionBytes are cut into ranges; the rows of each range come from the Parquet footers
   * (the row groups Spark's reader takes for it) less the all-zero rows left out, and equal what a job counts.
   */
  @Test
  void rowsOfPartsOfFilesFromFootersEqualAJobsCount() {
    int rows = 2400;
    List<Row> data = new ArrayList<>();
    Random r = new Random(5);
    int zeros = 0;
    for (int i = 0; i < rows; i++) {
      // zero rows alone, in runs, and a run long enough to cross row groups and ranges
      boolean zero = i % 97 == 0 || (i % 500 >= 200 && i % 500 < 206) || (i >= 1500 && i < 1800);
      zeros += zero ? 1 : 0;
      List<Float> v = new ArrayList<>();
      for (int j = 0; j < D; j++) {
        v.add(zero ? 0f : (float) r.nextGaussian());
      }
      data.add(RowFactory.create(v));
    }
    StructType schema = new StructType().add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false));
    String dir = tmp.resolve("parts").toString();
    spark.createDataFrame(data, schema).coalesce(2).write().option("parquet.block.size", "2048")
        .option("parquet.block.size.row.check.min", "10").option("parquet.block.size.row.check.max", "10")
        .parquet(dir);
    String key = "spark.sql.files.maxPartitionBytes";
    spark.conf().set(key, "6k");
    try {
      for (ZeroRows z : ZeroRows.values()) {
        RowSource src = RowSource.openFileSplits(spark, dir, "embedding", z);
        boolean parts = Arrays.stream(src.rdd().rdd().partitions()).anyMatch(p -> Arrays.stream(
            ((FilePartition) p).files()).anyMatch(f -> f.start() > 0));
        assertTrue(parts, "files cut into ranges");
        assertTrue(src.rdd().getNumPartitions() >= 8, src.rdd().getNumPartitions() + " splits");
        assertNull(src.splitRows(null), "parts of files need their footers");
        long[] footers = src.splitRows(spark.sessionState().newHadoopConf());
        long[] counted = SplitBatches.countRows(src);
        assertArrayEquals(counted, footers, z + ": rows per split from the footers");
        assertEquals(z == ZeroRows.SKIP ? rows - zeros : rows, Arrays.stream(footers).sum(), z.toString());
        assertTrue(Arrays.stream(footers).filter(n -> n == 0).count() < footers.length / 2, Arrays.toString(footers));
        assertArrayEquals(counted, SplitBatches.rowsPerSplit(src));
      }
    } finally {
      spark.conf().unset(key);
    }
  }

  /** Batches of fewer splits than task slots are named, with the maxPartitionBytes that gives one split per slot. */
  @Test
  void idleSlotsAreNamedWithTheSplitSizeThatFillsThem() {
    long[] rows = new long[20];
    Arrays.fill(rows, 100);
    BatchPlan plan = new BatchPlan(3, rows, 500); // 4 batches of 5 splits
    for (int[] b : plan.batches(0)) {
      assertEquals(5, b.length);
    }
    assertNull(SplitBatches.idleSlots(plan, 5, 2000L << 20), "5 splits fill 5 slots");
    String line = SplitBatches.idleSlots(plan, 8, 2000L << 20);
    assertEquals("batches of 5 splits for 8 task slots: 3 of the slots idle in each batch's encode; "
        + "spark.sql.files.maxPartitionBytes = 62m would cut the input (2000 MB) into about 8 splits per batch "
        + "(other splits: other batches, another fit)", line);
    assertEquals("batches of 5 splits for 8 task slots: 3 of the slots idle in each batch's encode",
        SplitBatches.idleSlots(plan, 8, -1));
    assertEquals("batches of 5 splits for 8 task slots: 3 of the slots idle in each batch's encode",
        SplitBatches.idleSlots(plan, 8, 20L << 20), "no figure under a megabyte a split");

    // batches of 1..4 splits (one large split, many small ones) on 3 slots: 0..2 idle
    long[] uneven = new long[13];
    Arrays.fill(uneven, 100);
    uneven[0] = 600;
    BatchPlan mixed = new BatchPlan(3, uneven, 600);
    int[] sizes = Arrays.stream(mixed.batches(0)).mapToInt(b -> b.length).sorted().toArray();
    assertEquals(1, sizes[0], Arrays.toString(sizes));
    assertTrue(sizes[sizes.length - 1] > 3, Arrays.toString(sizes));
    assertEquals("batches of 1.." + sizes[sizes.length - 1] + " splits for 3 task slots: 0..2 of the slots idle in "
        + "each batch's encode", SplitBatches.idleSlots(mixed, 3, -1));
  }
}
