package dbksvd.loop;

import dbksvd.util.Seeds;

/**
 * Which rows make up outer batch t. Every epoch visits all N rows once in a seeded pseudo-random order π_e, cut into
 * ceil(N / n) consecutive outer batches: iteration t belongs to epoch e = t / ceil(N/n) and takes the rows r with
 * π_e(r) in [b·n, min(N, (b+1)·n)), b = t mod ceil(N/n). π_e is a keyed Feistel permutation with cycle walking,
 * computed row by row, so a Spark task decides membership for its own rows without a shuffle or a global sort.
 */
public final class RowOrder implements OuterOrder, java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private final long seed;
  private final long rows;
  private final int batchSize;
  private final int halfBits;
  private final long halfMask;

  public RowOrder(long seed, long rows, int batchSize) {
    if (rows < 1) {
      throw new IllegalArgumentException("the dataset has no rows");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    this.seed = seed;
    this.rows = rows;
    this.batchSize = (int) Math.min(batchSize, rows);
    int bits = Math.max(2, 64 - Long.numberOfLeadingZeros(rows - 1));
    this.halfBits = (bits + 1) / 2;
    this.halfMask = (1L << halfBits) - 1;
  }

  /** N, the rows of the dataset. */
  @Override
  public long rows() {
    return rows;
  }

  /** The effective batch size (the requested one, capped at N). */
  public int batchSize() {
    return batchSize;
  }

  @Override
  public long batchesPerEpoch() {
    return (rows + batchSize - 1) / batchSize;
  }

  /**
   * The DᵀY lane key of row r in epoch e ({@link dbksvd.encode.EncodedBlock#encode}): its position in the epoch when
   * the epoch has several batches — a batch, and each staged task's share of it, is a run of consecutive positions,
   * which fill the lanes evenly where the row ids, a random subset, would not — else the row id (a scanned block
   * holds consecutive ids).
   */
  public long laneKey(long epoch, long row) {
    return batchesPerEpoch() > 1 ? position(epoch, row) : row;
  }

  /** The lane keys of rows of epoch e. */
  public long[] laneKeys(long epoch, long[] rows) {
    long[] k = new long[rows.length];
    for (int s = 0; s < rows.length; s++) {
      k[s] = laneKey(epoch, rows[s]);
    }
    return k;
  }

  /** π_e(r), the position of row r in epoch e. */
  public long position(long epoch, long row) {
    long x = row;
    do {
      x = feistel(epoch, x);
    } while (x >= rows);
    return x;
  }

  private long feistel(long epoch, long x) {
    long left = x >>> halfBits;
    long right = x & halfMask;
    for (int round = 0; round < 4; round++) {
      long f = Seeds.derive(seed, Seeds.ROW_ORDER, epoch, round, right) & halfMask;
      long next = left ^ f;
      left = right;
      right = next;
    }
    return (left << halfBits) | right;
  }

  /** True when row r is in the outer batch of the given iteration. */
  public boolean inBatch(long iteration, long row) {
    long b = iteration % batchesPerEpoch();
    long pos = position(epochOf(iteration), row);
    return pos >= b * batchSize && pos < Math.min(rows, (b + 1) * batchSize);
  }

  /** The row ids of outer batch t, ascending (a scan of all N rows: for data held in one JVM). */
  public long[] batchRows(long t) {
    long[] ids = new long[batchSize];
    int c = 0;
    for (long r = 0; r < rows; r++) {
      if (inBatch(t, r)) {
        ids[c++] = r;
      }
    }
    return java.util.Arrays.copyOf(ids, c);
  }

  /** True when row r is among the first `count` rows of epoch 0: the samples that initialise D. */
  public boolean isInitRow(long row, int count) {
    return position(0, row) < count;
  }
}
