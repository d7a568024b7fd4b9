package dbksvd.encode;

import java.util.Arrays;

/**
 * How the samples of a block are laid out in the DᵀY GEMM calls so that each sample's correlations come out
 * bit-identical whatever block it is encoded in — and so the dictionary is the same for any number of partitions.
 *
 * <p>Why: OpenBLAS computes the columns of a call in micro-tiles of a few columns (12 for the single-precision
 * kernels measured here), with different rounding in each lane of a tile and in the ragged tail of a call. Measured:
 * a column's result is unchanged when it moves by a multiple of the tile width inside calls whose widths are
 * multiples of it, and changes otherwise. So every call here is a multiple of {@link #LANES} columns wide (48, a
 * multiple of every tile width OpenBLAS uses), and a sample always sits in lane rowId mod 48. A lane that runs out
 * before the others leaves zero columns: the cost is the imbalance of the lanes, a few percent for blocks of
 * thousands of samples.
 *
 * <p>Example, LANES = 4 for brevity, chunk 8, rows [10, 11, 13, 14, 17, 21]: lanes 2, 3, 1, 2, 1, 1. Lane queues:
 * 0: [], 1: [13, 17, 21], 2: [10, 14], 3: [11]. Calls of up to 2 per lane: call 0 = [_, 13, 10, 11, _, 17, 14, _]
 * (width 8), call 1 = [_, 21, _, _] (width 4).
 */
public final class GemmLanes {
  public static final int LANES = 48;

  private final int[][] calls;

  public GemmLanes(long[] rowId, int chunk) {
    int n = rowId.length;
    int perLane = Math.max(1, chunk / LANES);
    int[] count = new int[LANES];
    for (long r : rowId) {
      count[lane(r)]++;
    }
    int[][] queue = new int[LANES][];
    for (int l = 0; l < LANES; l++) {
      queue[l] = new int[count[l]];
    }
    int[] fill = new int[LANES];
    for (int s = 0; s < n; s++) {
      int l = lane(rowId[s]);
      queue[l][fill[l]++] = s;
    }
    int longest = Arrays.stream(count).max().orElse(0);
    int numCalls = (longest + perLane - 1) / perLane;
    calls = new int[numCalls][];
    for (int c = 0; c < numCalls; c++) {
      int from = c * perLane;
      int depth = 0;
      for (int l = 0; l < LANES; l++) {
        depth = Math.max(depth, Math.min(perLane, count[l] - from));
      }
      int[] slots = new int[depth * LANES];
      Arrays.fill(slots, -1);
      for (int l = 0; l < LANES; l++) {
        for (int i = 0; i < depth && from + i < count[l]; i++) {
          slots[i * LANES + l] = queue[l][from + i];
        }
      }
      calls[c] = slots;
    }
  }

  static int lane(long rowId) {
    return (int) Math.floorMod(rowId, (long) LANES);
  }

  public int calls() {
    return calls.length;
  }

  /** Width of call c (a multiple of LANES). */
  public int width(int c) {
    return calls[c].length;
  }

  /** The sample in each column of call c, -1 for a zero column. */
  public int[] samples(int c) {
    return calls[c];
  }

  public int maxWidth() {
    int w = LANES;
    for (int[] c : calls) {
      w = Math.max(w, c.length);
    }
    return w;
  }

  /** Share of GEMM columns that are padding. */
  public double padding(int n) {
    long total = 0;
    for (int[] c : calls) {
      total += c.length;
    }
    return total == 0 ? 0 : 1 - (double) n / total;
  }
}
