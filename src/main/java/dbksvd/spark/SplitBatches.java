package dbksvd.spark;

import dbksvd.loop.BatchPlan;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.PartitionPruningRDD;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Logger;

/**
 * The rows of outer batch t for {@code dbksvd.fit.batching = splits}: the splits {@link BatchPlan} puts in batch t —
 * the partitions of the input's file scan ({@link RowSource#rdd}), as Spark cut the Parquet files — read by one task
 * each ({@link PartitionPruningRDD}: the other partitions are never read), decoded straight into a block. No
 * shuffle: an iteration reads its own splits, an epoch the dataset once. Row ids are {@link RowSource}'s (files by
 * path, index in the file), so they do not depend on how the files were split; the batches do.
 */
final class SplitBatches implements BatchReader {
  private static final Logger LOG = Logger.getLogger(SplitBatches.class.getName());
  private final RowSource source;
  private final BatchPlan plan;
  private long loggedEpoch = -1;

  SplitBatches(RowSource source, BatchPlan plan) {
    this.source = source;
    this.plan = plan;
  }

  /**
   * The plan from the rows of each partition of the source ({@link #rowsPerSplit}).
   */
  static BatchPlan plan(RowSource source, long seed, int batchSize) {
    return new BatchPlan(seed, rowsPerSplit(source), batchSize);
  }

  /**
   * The rows of each partition of the source, found once per source: when every partition is whole files, their
   * row counts from opening the dataset; when some are parts of larger files, those parts' row groups from the
   * files' Parquet footers ({@link RowSource#splitRows}; no job, no data read); else (not Parquet files, not a file
   * scan) one job that counts rows without decoding them (it reads the files once; no rows travel).
   */
  static long[] rowsPerSplit(RowSource source) {
    synchronized (source) {
      if (source.rowsPerSplit == null) {
        long t0 = System.nanoTime();
        long[] rows = source.splitRows(SparkSession.active().sessionState().newHadoopConf());
        String how = "from the files' row counts and footers";
        if (rows != null && Arrays.stream(rows).sum() != source.rows) {
          LOG.warning("the input's splits hold " + Arrays.stream(rows).sum() + " rows by their Parquet "
              + "footers, the dataset " + source.rows + ": counting them with a job instead");
          rows = null;
        }
        if (rows == null) {
          rows = countRows(source);
          how = "counted by a job";
        }
        LOG.info(String.format("rows of the input's %d splits %s (%.1f s)", rows.length, how,
            (System.nanoTime() - t0) / 1e9));
        source.rowsPerSplit = rows;
      }
      return source.rowsPerSplit.clone();
    }
  }

  /**
   * What the batches of splits depend on, for checkpoints: the number of splits and a digest of their row counts
   * ({@code "16 splits, rows sha256 3f2a…"}).
   */
  static String layout(RowSource source) {
    long[] rows = rowsPerSplit(source);
    try {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 * rows.length);
      for (long r : rows) {
        b.putLong(r);
      }
      byte[] h = md.digest(b.array());
      return rows.length + " splits, rows sha256 " + java.util.HexFormat.of().formatHex(h, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A warning when the batches leave task slots idle: a batch is encoded by one task per split, so a batch of fewer
   * splits than the task slots leaves the other slots idle for the whole encode (on a cluster of many cores and few,
   * large splits, most of them). Null when every batch of epoch 0 has at least {@code slots} splits. The line names
   * the {@code spark.sql.files.maxPartitionBytes} that would give a batch about one split per slot: a batch's bytes
   * over the slots (files are cut no finer than their row groups) — other splits make other batches, another fit.
   * No figure when that is under a megabyte (a split is then not worth a task) or the bytes are unknown.
   *
   * @param inputBytes the bytes of all splits (negative: unknown)
   */
  static String idleSlots(BatchPlan plan, int slots, long inputBytes) {
    int[][] batches = plan.batches(0);
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (int[] b : batches) {
      min = Math.min(min, b.length);
      max = Math.max(max, b.length);
    }
    if (min >= slots) {
      return null;
    }
    String line = String.format("batches of %s split%s for %d task slots: %s of the slots idle in each batch's "
        + "encode", min == max ? Integer.toString(min) : min + ".." + max, max == 1 ? "" : "s", slots,
        min == max ? Integer.toString(slots - min) : Math.max(0, slots - max) + ".." + (slots - min));
    long mb = inputBytes / ((long) batches.length * slots) >> 20;
    if (mb >= 1) { // below a megabyte a split is not worth a task
      line += String.format("; spark.sql.files.maxPartitionBytes = %dm would cut the input (%d MB) into about %d "
          + "splits per batch (other splits: other batches, another fit)", mb, inputBytes >> 20, slots);
    }
    return line;
  }

  /** The rows of each partition of the source, counted by one job. */
  static long[] countRows(RowSource source) {
    final RowSource src = source;
    List<long[]> counts = src.rdd().mapPartitionsWithIndex((i, it) ->
        List.of(new long[] {i, src.countRows(it)}).iterator(), true).collect();
    long[] rows = new long[src.rdd().getNumPartitions()];
    long total = 0;
    for (long[] c : counts) {
      rows[(int) c[0]] = c[1];
      total += c[1];
    }
    if (total != src.rows) {
      throw new IllegalStateException("the input's splits hold " + total + " rows, the dataset " + src.rows
          + " (did the files change since they were opened?)");
    }
    return rows;
  }

  BatchPlan plan() {
    return plan;
  }

  /** Logs {@link #idleSlots} for the given task slots, if any. */
  void warnIdleSlots(int slots) {
    String idle = idleSlots(plan, slots, source.inputBytes());
    if (idle != null) {
      LOG.warning(idle);
    }
  }

  @Override
  public JavaRDD<RowSource.Block> of(long t) {
    long epoch = plan.epochOf(t);
    if (epoch != loggedEpoch) {
      loggedEpoch = epoch;
      LOG.info(plan.describe(epoch));
    }
    final RowSource src = source;
    return splits(plan.splitsOf(t)).mapPartitions(it -> OuterBatches.once(() -> src.collect(it, id -> true)));
  }

  /** The source's partitions of the given (ascending) indices; partition i of the result is splits[i]. */
  private JavaRDD<InternalRow> splits(int[] splits) {
    return splits(source, splits);
  }

  /** As above, of any source (the other partitions are never read). */
  static JavaRDD<InternalRow> splits(RowSource source, int[] splits) {
    PartitionPruningRDD<InternalRow> pruned = PartitionPruningRDD.create(source.rdd().rdd(), new In(splits));
    return new JavaRDD<>(pruned, ClassTag$.MODULE$.apply(InternalRow.class));
  }

  /**
   * The first m rows of epoch 0 ({@link BatchPlan#initTake}): the first splits of batch 0 in the epoch's order,
   * each split's rows by ascending row id; d × m, in that order. One job over those splits only.
   */
  float[] initSamples(int m) {
    final int d = source.d;
    long[][] take = plan.initTake(m);
    int[] sorted = Arrays.stream(take).mapToInt(a -> (int) a[0]).sorted().toArray();
    final long[] keep = new long[sorted.length];
    for (long[] a : take) {
      keep[Arrays.binarySearch(sorted, (int) a[0])] = a[1];
    }
    final RowSource src = source;
    List<Object[]> parts = splits(sorted).mapPartitionsWithIndex((i, it) -> {
      RowSource.Block b = src.collect(it, id -> true);
      Integer[] idx = new Integer[b.n()];
      for (int s = 0; s < idx.length; s++) {
        idx[s] = s;
      }
      Arrays.sort(idx, Comparator.comparingLong(s -> b.rowId()[s]));
      int k = (int) keep[i];
      float[] Y = new float[k * d];
      for (int s = 0; s < k; s++) {
        System.arraycopy(b.Y(), idx[s] * d, Y, s * d, d);
      }
      return java.util.Collections.singletonList(new Object[] {i, Y}).iterator();
    }, true).collect();
    float[][] bySplit = new float[sorted.length][];
    for (Object[] p : parts) {
      bySplit[(Integer) p[0]] = (float[]) p[1];
    }
    float[] S = new float[d * m];
    int at = 0;
    for (long[] a : take) {
      float[] Y = bySplit[Arrays.binarySearch(sorted, (int) a[0])];
      System.arraycopy(Y, 0, S, at, Y.length);
      at += Y.length;
    }
    return S;
  }

  @Override
  public void close() {}

  /** Keeps the partitions whose index is in a sorted array. */
  static final class In extends AbstractFunction1<Object, Object> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int[] splits;

    In(int[] splits) {
      this.splits = splits;
    }

    @Override
    public Object apply(Object partition) {
      return Arrays.binarySearch(splits, (Integer) partition) >= 0;
    }
  }
}
