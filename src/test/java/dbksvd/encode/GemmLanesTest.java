package dbksvd.encode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.linalg.Blas;
import dbksvd.synth.PlantedData;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

/** The GEMM layout by lane, and what it is for: a sample's codes do not depend on the block it is coded in. */
class GemmLanesTest {
  static final int L = GemmLanes.LANES;

  /** Every sample in exactly one column, in the column of its lane (row id mod 48), calls 48-column multiples. */
  @Test
  void everySampleOnceInItsLane() {
    SplittableRandom rng = new SplittableRandom(3);
    for (int chunk : new int[] {1, 48, 100, 1024}) {
      long[] ids = rng.longs(777, 0, 1L << 40).toArray();
      GemmLanes lanes = new GemmLanes(ids, chunk);
      int[] seen = new int[ids.length];
      int perLane = Math.max(1, chunk / L);
      for (int c = 0; c < lanes.calls(); c++) {
        int w = lanes.width(c);
        assertEquals(0, w % L, "call width " + w);
        assertTrue(w <= perLane * L, "call " + c + " is " + w + " wide for chunk " + chunk);
        assertTrue(w <= lanes.maxWidth());
        int[] slot = lanes.samples(c);
        for (int q = 0; q < w; q++) {
          if (slot[q] >= 0) {
            seen[slot[q]]++;
            assertEquals(Math.floorMod(ids[slot[q]], (long) L), q % L, "sample " + slot[q] + " in column " + q);
          }
        }
      }
      for (int s = 0; s < ids.length; s++) {
        assertEquals(1, seen[s], "sample " + s + " with chunk " + chunk);
      }
      long real = Arrays.stream(seen).sum();
      long total = 0;
      for (int c = 0; c < lanes.calls(); c++) {
        total += lanes.width(c);
      }
      assertEquals(1 - (double) real / total, lanes.padding(ids.length), 1e-12);
    }
    assertEquals(0, new GemmLanes(new long[0], 1024).calls());
  }

  /** The class comment's example, at 48 lanes: rows 10, 58 (= 10 + 48) and 11 fill lanes 10 and 11 two deep. */
  @Test
  void aLaneTwoDeepMakesTwoRowsOfColumns() {
    GemmLanes lanes = new GemmLanes(new long[] {10, 11, 58}, 96);
    assertEquals(1, lanes.calls());
    assertEquals(2 * L, lanes.width(0));
    int[] slot = lanes.samples(0);
    assertEquals(0, slot[10]);
    assertEquals(1, slot[11]);
    assertEquals(2, slot[L + 10]);
    assertEquals(3, Arrays.stream(slot).filter(s -> s >= 0).count());
    GemmLanes narrow = new GemmLanes(new long[] {10, 11, 58}, 48); // one per lane per call: two calls
    assertEquals(2, narrow.calls());
    assertEquals(L, narrow.width(1));
    assertEquals(2, narrow.samples(1)[10]);
  }

  /**
   * The point of the layout: a sample coded in blocks of different companions, sizes and chunks gets the same codes
   * and residual, bit for bit (OpenBLAS rounds a column by its position in a call).
   */
  @Test
  void aSamplesCodesDoNotDependOnItsBlock() {
    int d = 64, m = 96, k = 5;
    PlantedData pd = new PlantedData(d, m, k, 25, 9);
    float[] D = pd.D.clone();
    Dictionary dict = new Dictionary(D, d, m);
    Encoder mp = new MatchingPursuit(k, 0);
    AtomGroups one = AtomGroups.single(m, k);
    long target = 1234;
    float[] y = pd.rows(target, 1);
    EncodedBlock first = null;
    SplittableRandom rng = new SplittableRandom(5);
    for (int trial = 0; trial < 6; trial++) {
      int n = 1 + rng.nextInt(700);
      long[] ids = new long[n];
      float[] Y = new float[n * d];
      int at = rng.nextInt(n);
      for (int s = 0; s < n; s++) {
        ids[s] = s == at ? target : 5000 + rng.nextInt(100_000);
        System.arraycopy(s == at ? y : pd.rows(ids[s], 1), 0, Y, s * d, d);
      }
      int chunk = 48 * (1 + rng.nextInt(30));
      EncodedBlock eb = EncodedBlock.encode(dict, one, mp, Y, ids, chunk);
      EncodedBlock single = EncodedBlock.encode(dict, one, mp, y, new long[] {target}, chunk);
      for (EncodedBlock b : new EncodedBlock[] {eb, single}) {
        int s = b == eb ? at : 0;
        float[] r = Arrays.copyOfRange(b.finalResidual(), s * d, (s + 1) * d);
        if (first == null) {
          first = single;
        }
        assertArrayEquals(Arrays.copyOfRange(first.finalResidual(), 0, d), r, "trial " + trial + ", n " + n
            + ", chunk " + chunk);
        assertEquals(first.rSqNorm[0], b.rSqNorm[s]);
        assertArrayEquals(Arrays.copyOf(first.codes.atom, first.codes.count[0]),
            Arrays.copyOfRange(b.codes.atom, s * b.codes.capacity, s * b.codes.capacity + b.codes.count[s]));
      }
    }
    assertTrue(Blas.sqNorm(d, first.finalResidual(), 0) < Blas.sqNorm(d, y, 0));
  }
}
