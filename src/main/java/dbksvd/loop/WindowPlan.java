package dbksvd.loop;

import dbksvd.encode.GemmLanes;
import dbksvd.util.Seeds;

import java.util.Arrays;

/**
 * The outer batches of {@link Batching#WINDOW}: {@link BatchPlan}'s batches of whole splits, taken W at a time as a
 * window, and every split's rows dealt over the window's batches. Epoch e's B batches of consecutive splits (in its
 * seeded split order) make ⌈B/W⌉ windows: window j the plan's batches [j·W, min(B, (j+1)·W)), W_j of them. Outer
 * batch j·W + q (0 ≤ q &lt; W_j) holds, of every split of window j, the rows dealt to place q by a seeded deal of
 * the split's rows (seeded by (seed, {@link Seeds#WINDOW_ROWS}, e, split), by the rows' ranks by row id:
 * {@link #placesInSplit}). So a batch holds about 1/W_j of each of the window's splits — rows of W_j times as many
 * files as a batch of {@link Batching#SPLITS} — and every row of the epoch is in exactly one batch; a batch takes
 * within 2·W_j rows of 1/W_j of each split.
 *
 * <p>With W = 1 the batches are {@link BatchPlan}'s. The plan is a pure function of (seed, the splits' row counts,
 * n, W): a resumed fit gets the same batches. {@code init = samples} takes the first m rows of window 0 of epoch 0
 * ordered by (batch, row id) — batch 0's rows first (later windows when m exceeds window 0).
 */
public final class WindowPlan implements OuterOrder, java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private static final int LANES = GemmLanes.LANES;
  private final BatchPlan plan;
  private final int window;

  /** @param window W, batches per window (at least 1) */
  public WindowPlan(BatchPlan plan, int window) {
    if (window < 1) {
      throw new IllegalArgumentException("dbksvd.fit.window must be at least 1 batch, got " + window);
    }
    for (int s = 0; s < plan.splits(); s++) {
      if (plan.splitRows(s) > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("split " + s + " holds " + plan.splitRows(s) + " rows, more than "
            + Integer.MAX_VALUE + "; set spark.sql.files.maxPartitionBytes lower");
      }
    }
    this.plan = plan;
    this.window = window;
  }

  public BatchPlan plan() {
    return plan;
  }

  /** W, batches per window (the last window of an epoch may hold fewer). */
  public int window() {
    return window;
  }

  @Override
  public long rows() {
    return plan.rows();
  }

  @Override
  public long batchesPerEpoch() {
    return plan.batchesPerEpoch();
  }

  /** Windows per epoch, ⌈B/W⌉. */
  public int windowsPerEpoch() {
    return (int) ((plan.batchesPerEpoch() + window - 1) / window);
  }

  /** The window of iteration t: its index from the fit's start (epoch · windows per epoch + window in the epoch). */
  public long windowOf(long t) {
    long b = t % plan.batchesPerEpoch();
    return epochOf(t) * windowsPerEpoch() + b / window;
  }

  /** q, the place of iteration t's batch in its window. */
  public int placeOf(long t) {
    return (int) (t % plan.batchesPerEpoch() % window);
  }

  /** W_j, the batches of window w ({@link #windowOf}'s numbering). */
  public int batchesOf(long w) {
    long j = w % windowsPerEpoch();
    return (int) Math.min(window, plan.batchesPerEpoch() - j * window);
  }

  /** The epoch of window w. */
  public long epochOfWindow(long w) {
    return w / windowsPerEpoch();
  }

  /** The splits of window w, ascending. */
  public int[] splitsOfWindow(long w) {
    long e = epochOfWindow(w);
    int j = (int) (w % windowsPerEpoch());
    int[][] batches = plan.batches(e);
    int[] out = new int[0];
    for (int b = j * window; b < Math.min(batches.length, (j + 1) * window); b++) {
      int at = out.length;
      out = Arrays.copyOf(out, at + batches[b].length);
      System.arraycopy(batches[b], 0, out, at, batches[b].length);
    }
    Arrays.sort(out);
    return out;
  }

  /**
   * The place in window w of each row of a split, by the row's rank in the split (its rank by row id): entry r is
   * the batch (0 ≤ q &lt; W_j) of the split's r-th row. The rows are dealt by rank class modulo
   * {@link GemmLanes#LANES}: class c (ranks c, c + 48, …) in a seeded order, its i-th row to place (i + c) mod W_j.
   * Rows of consecutive ids fill the lanes of the DᵀY calls evenly ({@link GemmLanes}: a sample's lane is its row
   * id modulo 48, and a call is as deep as its fullest lane), so dealt by class each place keeps them even; a
   * random deal would leave some lanes a quarter fuller than the mean in blocks of a few thousand rows, and the
   * calls that much wider.
   */
  public int[] placesInSplit(long w, int split) {
    int rows = (int) plan.splitRows(split);
    int wj = batchesOf(w);
    java.util.SplittableRandom rng = Seeds.rng(plan.seed(), Seeds.WINDOW_ROWS, epochOfWindow(w), split);
    int[] q = new int[rows];
    for (int c = 0; c < Math.min(LANES, rows); c++) {
      int members = (rows - c + LANES - 1) / LANES;
      int[] perm = Seeds.permutation(members, rng);
      for (int i = 0; i < members; i++) {
        q[c + perm[i] * LANES] = (i + c) % wj;
      }
    }
    return q;
  }

  /** Rows of outer batch t: its share of every split of its window ({@link #placesInSplit}'s deal, counted). */
  public long rowsOf(long t) {
    long w = windowOf(t);
    int wj = batchesOf(w);
    int q = placeOf(t);
    long n = 0;
    for (int s : splitsOfWindow(w)) {
      long rows = plan.splitRows(s);
      for (int c = 0; c < Math.min(LANES, rows); c++) {
        long members = (rows - c + LANES - 1) / LANES;
        n += members / wj + (Math.floorMod(q - c, wj) < members % wj ? 1 : 0); // i ≡ q − c (mod W_j), i < members
      }
    }
    return n;
  }

  /** A line for the log: epoch e's windows, their splits and batch sizes. */
  public String describe(long epoch) {
    int wpe = windowsPerEpoch();
    StringBuilder sizes = new StringBuilder();
    long min = Long.MAX_VALUE;
    long max = 0;
    for (long b = 0; b < plan.batchesPerEpoch(); b++) {
      long r = rowsOf(epoch * plan.batchesPerEpoch() + b);
      min = Math.min(min, r);
      max = Math.max(max, r);
      sizes.append(b == 0 ? "" : ", ").append(r);
    }
    StringBuilder splits = new StringBuilder();
    for (int j = 0; j < wpe; j++) {
      splits.append(j == 0 ? "" : ", ").append(splitsOfWindow(epoch * wpe + j).length);
    }
    return "epoch " + epoch + ": " + plan.batchesPerEpoch() + " batches in " + wpe + " windows of up to " + window
        + " batches (splits per window: " + splits + "), each batch a share of every split of its window, rows per "
        + "batch " + min + ".." + max + ": [" + sizes + "]";
  }
}
