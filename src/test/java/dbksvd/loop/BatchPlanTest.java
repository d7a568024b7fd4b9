package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Batches of whole splits: every split once per epoch, about N/B rows each, a pure function of the seed. */
class BatchPlanTest {
  /** Split sizes between lo and hi, some empty. */
  static long[] sizes(int splits, int lo, int hi, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    long[] c = new long[splits];
    for (int i = 0; i < splits; i++) {
      c[i] = i % 7 == 3 ? 0 : lo + rng.nextInt(hi - lo + 1);
    }
    return c;
  }

  @Test
  void everySplitOncePerEpochAndBatchesWithinOneSplitOfTheirShare() {
    for (int[] shape : new int[][] {{20, 900, 1100, 2000}, {64, 10, 500, 3000}, {16, 1000, 1000, 1000},
        {5, 100, 300, 100000}, {37, 1, 40, 77}}) {
      long[] c = sizes(shape[0], shape[1], shape[2], shape[0]);
      BatchPlan plan = new BatchPlan(9, c, shape[3]);
      long N = Arrays.stream(c).sum();
      long max = Arrays.stream(c).max().getAsLong();
      int nonEmpty = (int) Arrays.stream(c).filter(x -> x > 0).count();
      assertEquals(N, plan.rows());
      long B = plan.batchesPerEpoch();
      assertEquals(Math.min((N + Math.min(shape[3], N) - 1) / Math.min(shape[3], N), nonEmpty), B);
      for (long e = 0; e < 4; e++) {
        int[] seen = new int[c.length];
        long total = 0;
        for (long t = e * B; t < (e + 1) * B; t++) {
          int[] s = plan.splitsOf(t);
          assertTrue(s.length > 0, "no batch is empty");
          long rows = 0;
          for (int i : s) {
            seen[i]++;
            rows += c[i];
          }
          assertEquals(rows, plan.rowsOf(t));
          total += rows;
          if (max <= N / B) { // no split larger than a batch's share: within one split of it
            assertTrue(Math.abs(rows * B - N) < max * B, shape[0] + " splits, batch " + t + ": " + rows
                + " rows, share " + (double) N / B + ", largest split " + max);
          }
        }
        assertEquals(N, total);
        for (int i = 0; i < c.length; i++) {
          assertEquals(c[i] > 0 ? 1 : 0, seen[i], "split " + i + " in epoch " + e);
        }
      }
    }
  }

  @Test
  void deterministicPerSeedAndDifferentPerEpoch() {
    long[] c = sizes(40, 50, 150, 3);
    BatchPlan a = new BatchPlan(7, c, 400);
    BatchPlan again = new BatchPlan(7, c, 400);
    BatchPlan other = new BatchPlan(8, c, 400);
    for (long e = 0; e < 3; e++) {
      assertArrayEquals(a.order(e), again.order(e));
      assertArrayEquals(a.batches(e), again.batches(e));
      assertFalse(Arrays.equals(a.order(e), other.order(e)), "another seed, another order");
    }
    assertFalse(Arrays.equals(a.order(0), a.order(1)), "each epoch its own order");
    assertFalse(Arrays.deepEquals(a.batches(1), a.batches(2)));
    // asking in any order (a resumed fit starts mid-epoch) gives the same batches
    for (long t = 3 * a.batchesPerEpoch() - 1; t >= 0; t--) {
      int[] want = a.batches(a.epochOf(t))[(int) (t % a.batchesPerEpoch())].clone();
      Arrays.sort(want);
      assertArrayEquals(want, again.splitsOf(t), "iteration " + t);
    }
  }

  @Test
  void initTakesTheFirstRowsOfBatchZero() {
    long[] c = sizes(30, 100, 200, 5);
    BatchPlan plan = new BatchPlan(1, c, 1000);
    int[] order = plan.order(0);
    long[][] take = plan.initTake(250);
    assertEquals(order[0], take[0][0]);
    assertEquals(Arrays.stream(take).mapToLong(a -> a[1]).sum(), 250);
    for (int i = 0; i < take.length; i++) {
      assertEquals(order[i], take[i][0]);
      assertEquals(i < take.length - 1 ? c[order[i]] : 250 - Arrays.stream(take).limit(i).mapToLong(a -> a[1]).sum(),
          take[i][1]);
    }
    long batch0 = plan.rowsOf(0);
    if (250 <= batch0) {
      int[] b0 = plan.splitsOf(0);
      for (long[] a : take) {
        assertTrue(Arrays.binarySearch(b0, (int) a[0]) >= 0, "m <= n: the init rows are batch 0's");
      }
    }
    assertThrows(IllegalArgumentException.class, () -> plan.initTake((int) plan.rows() + 1));
  }

  @Test
  void oneBatchWhenNCoversTheData() {
    BatchPlan plan = new BatchPlan(2, new long[] {5, 0, 7}, 100);
    assertEquals(1, plan.batchesPerEpoch());
    assertArrayEquals(new int[] {0, 2}, plan.splitsOf(3));
    assertEquals(12, plan.rowsOf(3));
    assertThrows(IllegalArgumentException.class, () -> new BatchPlan(0, new long[] {0, 0}, 5));
  }

  @Test
  void inMemoryFitRefusesSplits() {
    FitParams p = FitParams.builder(4, 1).batching(Batching.SPLITS).build();
    var e = assertThrows(IllegalArgumentException.class, () -> FitLoop.fit(new float[8 * 10], 8, p, null));
    assertTrue(e.getMessage().contains("batching = rows only"), e.getMessage());
  }

  @Test
  void fewerSplitsThanBatchesAreNamed() {
    BatchPlan few = new BatchPlan(1, new long[] {500, 0, 500, 500}, 100); // 15 batches wanted, 3 splits
    assertEquals(3, few.batchesPerEpoch());
    String line = few.fewSplits();
    assertTrue(line != null && line.contains("3 splits for 15 batches") && line.contains("500 rows"), line);
    assertEquals(null, new BatchPlan(1, new long[] {500, 500, 500}, 500).fewSplits());
  }
}
