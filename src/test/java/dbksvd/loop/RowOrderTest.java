package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RowOrderTest {

  /** The order of epoch e: rows sorted by their position. */
  static long[] order(RowOrder o, long epoch, int N) {
    long[] byPos = new long[N];
    Arrays.fill(byPos, -1);
    for (int r = 0; r < N; r++) {
      long p = o.position(epoch, r);
      assertTrue(p >= 0 && p < N, "position " + p + " of row " + r + " outside [0, " + N + ")");
      assertEquals(-1, byPos[(int) p], "two rows at position " + p);
      byPos[(int) p] = r;
    }
    return byPos;
  }

  @Test
  void everyEpochsBatchesPartitionAllRows() {
    int[][] cases = {{1, 1}, {1, 5}, {2, 1}, {7, 3}, {10, 10}, {10, 11}, {10, 1000}, {100, 7}, {257, 64},
        {1000, 128}, {1024, 256}, {3000, 999}};
    for (int[] c : cases) {
      int N = c[0], n = c[1];
      RowOrder o = new RowOrder(42, N, n);
      int bs = Math.min(n, N);
      assertEquals(bs, o.batchSize());
      long per = o.batchesPerEpoch();
      assertEquals((N + bs - 1) / bs, per);
      for (long epoch = 0; epoch < 3; epoch++) {
        int[] seen = new int[N];
        for (long b = 0; b < per; b++) {
          long t = epoch * per + b;
          assertEquals(epoch, o.epochOf(t));
          long[] rows = o.batchRows(t);
          int expect = (int) Math.min(bs, N - b * bs);
          assertEquals(expect, rows.length, "N=" + N + " n=" + n + " iteration " + t);
          for (long r : rows) {
            seen[(int) r]++;
          }
        }
        for (int r = 0; r < N; r++) {
          assertEquals(1, seen[r], "N=" + N + " n=" + n + " epoch " + epoch + ": row " + r);
        }
      }
    }
  }

  @Test
  void epochsAndSeedsChangeTheOrder() {
    for (int N : new int[] {10, 97, 1000, 4096}) {
      RowOrder a = new RowOrder(7, N, 16);
      RowOrder again = new RowOrder(7, N, 16);
      RowOrder other = new RowOrder(8, N, 16);
      long[][] epochs = new long[4][];
      for (int e = 0; e < 4; e++) {
        epochs[e] = order(a, e, N);
        assertTrue(Arrays.equals(epochs[e], order(again, e, N)), "same seed, same order (N=" + N + ")");
        assertFalse(Arrays.equals(epochs[e], order(other, e, N)), "another seed, another order (N=" + N + ")");
        for (int f = 0; f < e; f++) {
          assertFalse(Arrays.equals(epochs[e], epochs[f]), "epochs " + f + " and " + e + " equal (N=" + N + ")");
        }
      }
      long[] identity = new long[N];
      Arrays.setAll(identity, i -> i);
      assertNotEquals(Arrays.toString(identity), Arrays.toString(epochs[0]), "the order is shuffled");
    }
  }

  @Test
  void initRowsAreTheFirstOfEpochZero() {
    int N = 500, m = 37;
    RowOrder o = new RowOrder(3, N, 100);
    int count = 0;
    for (int r = 0; r < N; r++) {
      if (o.isInitRow(r, m)) {
        count++;
        assertTrue(o.position(0, r) < m);
      }
    }
    assertEquals(m, count);
  }

  @Test
  void badArguments() {
    assertThrows(IllegalArgumentException.class, () -> new RowOrder(0, 0, 5));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RowOrder(0, 5, 0));
    assertTrue(e.getMessage().contains("batch size"), e.getMessage());
  }

  /**
   * A batch's lane keys are its consecutive positions, so its samples fill the DᵀY lanes evenly (within one), where
   * its row ids — a random subset — leave some lanes fuller; one batch per epoch keys by row id.
   */
  @Test
  void aBatchsLaneKeysFillTheLanesEvenly() {
    RowOrder o = new RowOrder(3, 100_000, 5_000);
    for (long t = 0; t < 3; t++) {
      long[] rows = o.batchRows(t + 20); // epoch 1
      long[] keys = o.laneKeys(1, rows);
      long[] sorted = keys.clone();
      Arrays.sort(sorted);
      for (int s = 0; s < sorted.length; s++) {
        assertEquals(t * 5_000 + s, sorted[s], "batch " + t + ": positions " + t * 5_000 + "..");
      }
      int[] byKey = new int[48];
      int[] byRow = new int[48];
      for (int s = 0; s < rows.length; s++) {
        byKey[(int) (keys[s] % 48)]++;
        byRow[(int) (rows[s] % 48)]++;
      }
      assertTrue(Arrays.stream(byKey).max().getAsInt() - Arrays.stream(byKey).min().getAsInt() <= 1);
      assertTrue(Arrays.stream(byRow).max().getAsInt() - Arrays.stream(byRow).min().getAsInt() > 5,
          "the row ids of a random batch do not fill the lanes evenly");
    }
    RowOrder one = new RowOrder(3, 1_000, 5_000);
    assertEquals(17, one.laneKey(0, 17), "one batch per epoch: the row id");
  }
}
