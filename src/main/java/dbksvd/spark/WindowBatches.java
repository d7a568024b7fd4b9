package dbksvd.spark;

import dbksvd.loop.WindowPlan;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Logger;

/**
 * The rows of outer batch t for {@code dbksvd.fit.batching = window}: the splits of t's window ({@link WindowPlan})
 * are read once — one task per split, decoded straight into a block, its rows dealt into one block per place of the
 * window, persisted (memory, spilling to disk) while the window's W iterations run — and iteration t takes, of each
 * split, the block of its place. No shuffle: an epoch reads the dataset once, and every split's rows stay on the
 * executor that read them. A batch is encoded by as many tasks as its window has splits, each with about 1/W of its
 * split's rows.
 */
final class WindowBatches implements BatchReader {
  private static final Logger LOG = Logger.getLogger(WindowBatches.class.getName());
  private final RowSource source;
  private final WindowPlan plan;
  private long loggedEpoch = -1;
  private long heldWindow = -1;
  private JavaRDD<RowSource.Block[]> held;

  WindowBatches(RowSource source, WindowPlan plan) {
    this.source = source;
    this.plan = plan;
  }

  WindowPlan plan() {
    return plan;
  }

  /** Logs a warning when a window has fewer splits than the task slots (the others idle in each encode). */
  void warnIdleSlots(int slots) {
    int min = Integer.MAX_VALUE;
    for (int j = 0; j < plan.windowsPerEpoch(); j++) {
      min = Math.min(min, plan.splitsOfWindow(j).length);
    }
    if (min < slots) {
      LOG.warning(String.format("windows of %d or more splits for %d task slots: up to %d of the slots idle in each "
          + "batch's encode (a larger dbksvd.fit.window, or a lower spark.sql.files.maxPartitionBytes, gives a "
          + "window more splits)", min, slots, slots - min));
    }
  }

  @Override
  public JavaRDD<RowSource.Block> of(long t) {
    long epoch = plan.epochOf(t);
    if (epoch != loggedEpoch) {
      loggedEpoch = epoch;
      LOG.info(plan.describe(epoch));
    }
    final int q = plan.placeOf(t);
    return window(plan.windowOf(t)).mapPartitions(it -> OuterBatches.once(() -> it.next()[q]), true);
  }

  /**
   * The rows of window w, one element per split (partition i: the window's i-th split, ascending), held: the
   * split's rows dealt into one block per place of the window, each by row id. An iteration takes its place's block
   * as it is (no copy).
   */
  private JavaRDD<RowSource.Block[]> window(long w) {
    if (w != heldWindow) {
      close();
      held = dealt(w).setName("dbksvd rows of window " + w + " (batching = window)")
          .persist(StorageLevel.MEMORY_AND_DISK());
      heldWindow = w;
    }
    return held;
  }

  /** The splits of window w read and dealt to its places; not persisted. */
  private JavaRDD<RowSource.Block[]> dealt(long w) {
    final RowSource src = source;
    final WindowPlan wp = plan;
    final int[] splits = plan.splitsOfWindow(w);
    final int wj = plan.batchesOf(w);
    final int d = source.d;
    return SplitBatches.splits(source, splits).mapPartitionsWithIndex((i, it) -> OuterBatches.once(() -> {
      RowSource.Block b = src.collect(it, id -> true);
      int[] places = places(wp, w, splits[i], b);
      int[] rank = byRowId(b);
      int[] count = new int[wj];
      for (int p : places) {
        count[p]++;
      }
      RowSource.Block[] out = new RowSource.Block[wj];
      int[] fill = new int[wj];
      for (int q = 0; q < wj; q++) {
        out[q] = new RowSource.Block(new long[count[q]], new float[count[q] * d]);
      }
      for (int r = 0; r < rank.length; r++) {
        RowSource.Block o = out[places[r]];
        int c = fill[places[r]]++;
        o.rowId()[c] = b.rowId()[rank[r]];
        System.arraycopy(b.Y(), rank[r] * d, o.Y(), c * d, d);
      }
      return out;
    }), true);
  }

  /** The places in window w of a block's rows by rank ({@link WindowPlan#placesInSplit}), checked against it. */
  private static int[] places(WindowPlan wp, long w, int split, RowSource.Block b) {
    int[] places = wp.placesInSplit(w, split);
    if (places.length != b.n()) {
      throw new IllegalStateException("split " + split + " of the input holds " + b.n() + " rows, planned with "
          + places.length + " (did the files change since the fit started?)");
    }
    return places;
  }

  /** The block's rows by ascending row id (their ranks). */
  private static int[] byRowId(RowSource.Block b) {
    long[] id = b.rowId();
    boolean sorted = true;
    for (int s = 1; s < id.length && sorted; s++) {
      sorted = id[s - 1] < id[s];
    }
    Integer[] idx = new Integer[id.length];
    for (int s = 0; s < idx.length; s++) {
      idx[s] = s;
    }
    if (!sorted) {
      Arrays.sort(idx, Comparator.comparingLong(s -> id[s]));
    }
    return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
  }

  /**
   * The first m rows of epoch 0 in {@link WindowPlan}'s init order: window by window, place by place, split by split
   * (ascending), each split's rows of that place by row id; d × m. The driver picks which rows from the plan, so each
   * job sends only the rows taken: m·d floats in all. Window 0 is read through the held blocks iteration 1 uses.
   */
  float[] initSamples(int m) {
    if (m > plan.rows()) {
      throw new IllegalArgumentException("the dataset has " + plan.rows() + " rows, fewer than " + m);
    }
    final int d = source.d;
    float[] S = new float[d * m];
    int at = 0;
    for (long w = 0; at < m; w++) {
      final int[] splits = plan.splitsOfWindow(w);
      final int wj = plan.batchesOf(w);
      final int[][] take = new int[splits.length][wj]; // rows of place q to take from split i, the first by rank
      List<int[]> order = new ArrayList<>(); // (i, q) in the init order
      int planned = at;
      for (int q = 0; q < wj && planned < m; q++) {
        for (int i = 0; i < splits.length && planned < m; i++) {
          long r = plan.plan().splitRows(splits[i]);
          int c = (int) Math.min(r / wj + (q < r % wj ? 1 : 0), m - planned);
          if (c > 0) {
            take[i][q] = c;
            order.add(new int[] {i, q});
            planned += c;
          }
        }
      }
      JavaRDD<RowSource.Block[]> rows = w == 0 ? window(0) : dealt(w);
      List<Object[]> parts = rows.mapPartitionsWithIndex((i, it) -> {
        RowSource.Block[] byPlace = it.next();
        List<Object[]> out = new ArrayList<>();
        for (int q = 0; q < wj; q++) {
          if (take[i][q] > 0) {
            out.add(new Object[] {i, q, Arrays.copyOf(byPlace[q].Y(), take[i][q] * d)});
          }
        }
        return out.iterator();
      }, true).collect();
      float[][][] got = new float[splits.length][wj][];
      for (Object[] p : parts) {
        got[(Integer) p[0]][(Integer) p[1]] = (float[]) p[2];
      }
      for (int[] iq : order) {
        float[] Y = got[iq[0]][iq[1]];
        System.arraycopy(Y, 0, S, at * d, Y.length);
        at += Y.length / d;
      }
    }
    return S;
  }

  /** Drops the held window. */
  @Override
  public void close() {
    if (held != null) {
      held.unpersist(false);
      held = null;
      heldWindow = -1;
    }
  }
}
