package dbksvd.loop;

import dbksvd.util.Seeds;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The outer batches of {@link Batching#SPLITS}: batches made of whole splits (on Spark, the partitions of the
 * input's file scan) instead of single rows. Every epoch e visits the non-empty splits once in a seeded order
 * (a Fisher-Yates permutation seeded by (seed, {@link Seeds#SPLIT_ORDER}, e)) and cuts that order into
 * B = min(⌈N/n⌉, splits) batches of consecutive splits: batch b closes at the first split where the rows so far
 * reach (b+1)·N/B (or when the splits left are as many as the batches left, so that no batch is empty). A batch
 * thus holds about N/B ≤ n rows, off by less than one split when no split exceeds N/B; the sizes change from epoch
 * to epoch. The plan is a pure function of (seed, the splits' row counts, n): a resumed fit gets the same batches.
 *
 * <p>The row order of epoch e, which {@code init = samples} takes its first m rows from: the splits in the epoch's
 * order, each split's rows by ascending row id. The first m rows of epoch 0 are thus the first rows of batch 0.
 */
public final class BatchPlan implements OuterOrder, java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private final long seed;
  private final long[] counts;
  private final int[] nonEmpty;
  private final long rows;
  private final int batchSize;
  private final int batches;
  private transient long cachedEpoch = -1;
  private transient int[][] cached;

  /**
   * @param splitRows rows of each split (index = the split's number, e.g. the Spark partition)
   * @param batchSize n, the rows wanted per batch
   */
  public BatchPlan(long seed, long[] splitRows, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    this.seed = seed;
    this.counts = splitRows.clone();
    long n = 0;
    int s = 0;
    for (long c : counts) {
      if (c < 0) {
        throw new IllegalArgumentException("a split cannot have " + c + " rows");
      }
      n += c;
      s += c > 0 ? 1 : 0;
    }
    if (n < 1) {
      throw new IllegalArgumentException("the dataset has no rows");
    }
    this.rows = n;
    this.nonEmpty = new int[s];
    for (int i = 0, j = 0; i < counts.length; i++) {
      if (counts[i] > 0) {
        nonEmpty[j++] = i;
      }
    }
    this.batchSize = (int) Math.min(batchSize, n);
    this.batches = (int) Math.min((n + this.batchSize - 1) / this.batchSize, s);
  }

  /** The seed the plan was drawn from. */
  public long seed() {
    return seed;
  }

  @Override
  public long rows() {
    return rows;
  }

  @Override
  public long batchesPerEpoch() {
    return batches;
  }

  /** The number of splits (also the empty ones). */
  public int splits() {
    return counts.length;
  }

  /** Rows of split i. */
  public long splitRows(int i) {
    return counts[i];
  }

  /** The non-empty splits in the order epoch e visits them. */
  public int[] order(long epoch) {
    int[] p = Seeds.permutation(nonEmpty.length, Seeds.rng(seed, Seeds.SPLIT_ORDER, epoch));
    int[] o = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      o[i] = nonEmpty[p[i]];
    }
    return o;
  }

  /** The splits of each batch of epoch e, in the epoch's order. */
  public int[][] batches(long epoch) {
    int[] o = order(epoch);
    int[][] out = new int[batches][];
    int b = 0;
    int start = 0;
    long sum = 0;
    for (int j = 0; j < o.length && b < batches - 1; j++) {
      sum += counts[o[j]];
      boolean reached = atLeast(sum, batches, rows, b + 1);
      if (reached || o.length - j - 1 == batches - b - 1) {
        out[b++] = Arrays.copyOfRange(o, start, j + 1);
        start = j + 1;
      }
    }
    out[b] = Arrays.copyOfRange(o, start, o.length);
    return out;
  }

  /** a·b ≥ c·e for non-negative longs, in 128 bits. */
  static boolean atLeast(long a, long b, long c, long e) {
    long hi1 = Math.multiplyHigh(a, b);
    long hi2 = Math.multiplyHigh(c, e);
    return hi1 != hi2 ? hi1 > hi2 : Long.compareUnsigned(a * b, c * e) >= 0;
  }

  /** The splits of outer batch t, ascending. */
  public synchronized int[] splitsOf(long t) {
    long e = epochOf(t);
    if (e != cachedEpoch) {
      cached = batches(e);
      cachedEpoch = e;
    }
    int[] s = cached[(int) (t % batches)].clone();
    Arrays.sort(s);
    return s;
  }

  /** Rows of outer batch t. */
  public long rowsOf(long t) {
    long n = 0;
    for (int s : splitsOf(t)) {
      n += counts[s];
    }
    return n;
  }

  /**
   * The first m rows of epoch 0 (the samples of {@code init = samples}), as {split, rows} pairs in order: the
   * first {@code rows} rows by row id of each split, the splits in epoch 0's order.
   */
  public long[][] initTake(int m) {
    if (m > rows) {
      throw new IllegalArgumentException("the dataset has " + rows + " rows, fewer than " + m);
    }
    List<long[]> take = new ArrayList<>();
    long left = m;
    for (int s : order(0)) {
      if (left == 0) {
        break;
      }
      long k = Math.min(left, counts[s]);
      take.add(new long[] {s, k});
      left -= k;
    }
    return take.toArray(new long[0][]);
  }

  /**
   * A warning when the input has fewer non-empty splits than ⌈N/n⌉, so that an epoch has fewer, larger batches than
   * n asks for (a batch is at least one split); null otherwise.
   */
  public String fewSplits() {
    long want = (rows + batchSize - 1) / batchSize;
    if (batches >= want) {
      return null;
    }
    return String.format("the input has %d splits for %d batches of n = %d: %d batches of about %d rows per epoch "
        + "(a lower spark.sql.files.maxPartitionBytes cuts the files into more splits)", nonEmpty.length, want,
        batchSize, batches, rows / batches);
  }

  /** A line for the log: the batches of epoch e and their sizes. */
  public String describe(long epoch) {
    int[][] bs = batches(epoch);
    long[] sizes = new long[bs.length];
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int b = 0; b < bs.length; b++) {
      for (int s : bs[b]) {
        sizes[b] += counts[s];
      }
      min = Math.min(min, sizes[b]);
      max = Math.max(max, sizes[b]);
    }
    return "epoch " + epoch + ": " + bs.length + " batches of whole splits (" + nonEmpty.length + " splits, "
        + rows + " rows, n = " + batchSize + "), rows per batch " + min + ".." + max + ": " + Arrays.toString(sizes);
  }
}
