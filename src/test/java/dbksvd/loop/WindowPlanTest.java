package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

/**
 * Windows of W batches of splits: every row in exactly one batch per epoch, a batch a share of every split of its
 * window, sizes within one row per split, W = 1 the plan's own batches, a pure function of the seed.
 */
class WindowPlanTest {
  @Test
  void everyRowInOneBatchPerEpochAndEachBatchAShareOfEverySplitOfItsWindow() {
    for (int[] shape : new int[][] {{20, 900, 1100, 2000, 4}, {64, 10, 500, 3000, 3}, {16, 1000, 1000, 1000, 8},
        {5, 100, 300, 100000, 4}, {37, 1, 40, 77, 2}, {30, 50, 60, 200, 100}}) {
      long[] c = BatchPlanTest.sizes(shape[0], shape[1], shape[2], shape[0]);
      BatchPlan batches = new BatchPlan(9, c, shape[3]);
      WindowPlan plan = new WindowPlan(batches, shape[4]);
      long B = plan.batchesPerEpoch();
      assertEquals(batches.batchesPerEpoch(), B);
      assertEquals((B + shape[4] - 1) / shape[4], plan.windowsPerEpoch());
      for (long e = 0; e < 3; e++) {
        int[][] seen = new int[c.length][];
        for (int s = 0; s < c.length; s++) {
          seen[s] = new int[(int) c[s]];
        }
        long total = 0;
        for (long t = e * B; t < (e + 1) * B; t++) {
          long w = plan.windowOf(t);
          assertEquals(e, plan.epochOfWindow(w));
          int wj = plan.batchesOf(w);
          int q = plan.placeOf(t);
          assertTrue(q < wj && wj <= shape[4], q + " of " + wj);
          int[] splits = plan.splitsOfWindow(w);
          long rows = 0;
          long windowRows = 0;
          for (int s : splits) {
            int[] places = plan.placesInSplit(w, s);
            assertEquals(c[s], places.length);
            int mine = 0;
            for (int r = 0; r < places.length; r++) {
              if (places[r] == q) {
                seen[s][r]++;
                mine++;
              }
            }
            assertTrue(Math.abs(mine - (double) c[s] / wj) <= 2 * wj, "split " + s + ": " + mine + " of " + c[s]);
            rows += mine;
            windowRows += c[s];
          }
          assertEquals(rows, plan.rowsOf(t), "batch " + t);
          assertTrue(Math.abs(rows - (double) windowRows / wj) <= 2 * wj * splits.length, rows + " of "
              + windowRows);
          total += rows;
        }
        assertEquals(plan.rows(), total);
        for (int s = 0; s < c.length; s++) {
          for (int r = 0; r < c[s]; r++) {
            assertEquals(1, seen[s][r], "split " + s + " row " + r + " in epoch " + e);
          }
        }
      }
    }
  }

  /**
   * Each place of a split gets its rank classes modulo 48 (the DᵀY lanes of rows with consecutive ids) evenly:
   * within one row of each other, so a batch's blocks fill the GEMM calls' lanes as evenly as whole splits do.
   */
  @Test
  void aPlaceTakesEveryLaneClassEvenly() {
    long[] c = {13_000, 3_301, 47, 480, 12_345};
    WindowPlan plan = new WindowPlan(new BatchPlan(2, c, 3_000), 4);
    for (long w = 0; w < plan.windowsPerEpoch(); w++) {
      for (int s : plan.splitsOfWindow(w)) {
        int wj = plan.batchesOf(w);
        int[] places = plan.placesInSplit(w, s);
        for (int q = 0; q < wj; q++) {
          int[] lane = new int[48];
          for (int r = 0; r < places.length; r++) {
            lane[r % 48] += places[r] == q ? 1 : 0;
          }
          int lo = Arrays.stream(lane).min().getAsInt();
          int hi = Arrays.stream(lane).max().getAsInt();
          assertTrue(hi - lo <= 1 || places.length < 48 * wj, "split " + s + " place " + q + ": lanes " + lo + ".."
              + hi);
        }
      }
    }
  }

  @Test
  void aWindowIsItsBatchesSplitsAndOneBatchWindowsAreThePlansBatches() {
    long[] c = BatchPlanTest.sizes(40, 100, 200, 3);
    BatchPlan batches = new BatchPlan(4, c, 700);
    WindowPlan plan = new WindowPlan(batches, 3);
    long B = plan.batchesPerEpoch();
    for (long e = 0; e < 2; e++) {
      int[][] bs = batches.batches(e);
      for (int j = 0; j < plan.windowsPerEpoch(); j++) {
        int[] want = Arrays.stream(bs, 3 * j, Math.min(bs.length, 3 * j + 3)).flatMapToInt(Arrays::stream)
            .sorted().toArray();
        assertArrayEquals(want, plan.splitsOfWindow(e * plan.windowsPerEpoch() + j));
      }
    }
    WindowPlan one = new WindowPlan(batches, 1);
    for (long t = 0; t < 2 * B; t++) {
      assertArrayEquals(batches.splitsOf(t), one.splitsOfWindow(one.windowOf(t)));
      assertEquals(batches.rowsOf(t), one.rowsOf(t));
    }
  }

  @Test
  void theSeedFixesThePlacesAndEpochsDiffer() {
    long[] c = BatchPlanTest.sizes(12, 300, 400, 5);
    WindowPlan a = new WindowPlan(new BatchPlan(11, c, 900), 4);
    WindowPlan b = new WindowPlan(new BatchPlan(11, c, 900), 4);
    WindowPlan other = new WindowPlan(new BatchPlan(12, c, 900), 4);
    int s = a.splitsOfWindow(0)[0];
    assertArrayEquals(a.placesInSplit(0, s), b.placesInSplit(0, s));
    assertTrue(!Arrays.equals(a.placesInSplit(0, s), other.placesInSplit(0, s)));
    long w1 = a.windowsPerEpoch(); // a window of epoch 1 holding split s
    while (Arrays.binarySearch(a.splitsOfWindow(w1), s) < 0) {
      w1++;
    }
    assertTrue(!Arrays.equals(a.placesInSplit(0, s), a.placesInSplit(w1, s)), "a new deal every epoch");
    assertThrows(IllegalArgumentException.class, () -> new WindowPlan(new BatchPlan(1, c, 900), 0));
  }
}
