package dbksvd.update;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.MatchingPursuit;
import dbksvd.encode.SparseCodes;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Jacobi update against a dense computation of E_j = R_Ω + d_j·x_jΩᵀ per atom (one power step, and many
 * steps against the top singular vector of E_j), its exactness under any split of the samples into blocks, and the
 * grid's bounds.
 */
class JacobiUpdateTest {
  static final int D = 16, M = 24;

  static EncodedBlock encoded(AtomGroups groups, int k, int n, long seed, float[][] dictOut) {
    AtomBatchUpdateTest.Problem pr = AtomBatchUpdateTest.problem(n, seed);
    dictOut[0] = pr.Dinit();
    return EncodedBlock.encode(new Dictionary(pr.Dinit(), D, M), groups, new MatchingPursuit(k, 0), pr.Y(),
        pr.rowId(), 32);
  }

  /** E_j (d × |Ω_j|) of atom j, in double: its group's residual columns plus d_j·x_ij. */
  static double[][] errorColumns(EncodedBlock eb, AtomGroups groups, float[] Dict, int j) {
    float[] R = eb.residuals(Dict).of(groups.groupOfAtoms()[j]);
    List<double[]> cols = new ArrayList<>();
    for (int s = 0; s < eb.n; s++) {
      float x = eb.codes.get(s, j);
      boolean member = false;
      for (int t = 0; t < eb.codes.count[s]; t++) {
        member |= eb.codes.atom[s * eb.codes.capacity + t] == j;
      }
      if (!member) {
        continue;
      }
      double[] e = new double[D];
      for (int i = 0; i < D; i++) {
        e[i] = R[s * D + i] + (double) Dict[j * D + i] * x;
      }
      cols.add(e);
    }
    return cols.toArray(new double[0][]);
  }

  /** normalize(E·Eᵀ·u) in double. */
  static double[] powerStep(double[][] E, double[] u) {
    double[] w = new double[D];
    for (double[] e : E) {
      double v = 0;
      for (int i = 0; i < D; i++) {
        v += e[i] * u[i];
      }
      for (int i = 0; i < D; i++) {
        w[i] += v * e[i];
      }
    }
    double n = Math.sqrt(TestMath.sqNorm(w));
    for (int i = 0; i < D; i++) {
      w[i] /= n;
    }
    return w;
  }

  static float[] passes(EncodedBlock eb, AtomGroups groups, float[] Dict, int passes) {
    int e = JacobiUpdate.exponent(JacobiUpdate.termBound(eb), eb.n);
    JacobiUpdate.Krylov krylov = new JacobiUpdate.Krylov(Dict, D, M, passes);
    while (!krylov.done()) {
      krylov.absorb(List.of(JacobiUpdate.Step.of(JacobiUpdate.accumulate(eb, groups, Dict, krylov.vector(),
          krylov.alignment(), e), Dict)));
    }
    return krylov.atoms();
  }

  @Test
  void oneStepIsThePowerStepOnEachAtomsOwnError() {
    for (AtomGroups groups : new AtomGroups[] {AtomGroups.single(M, 3), AtomGroups.matryoshka(3, M, 3, null)}) {
      float[][] dict = new float[1][];
      EncodedBlock eb = encoded(groups, 3, 300, 1, dict);
      float[] Dict = dict[0];
      float[] u = passes(eb, groups, Dict, 1);
      int checked = 0;
      for (int j = 0; j < M; j++) {
        double[][] E = errorColumns(eb, groups, Dict, j);
        if (E.length == 0) {
          assertArrayEquals(java.util.Arrays.copyOfRange(Dict, j * D, j * D + D),
              java.util.Arrays.copyOfRange(u, j * D, j * D + D), "an unused atom keeps its vector");
          continue;
        }
        double[] expected = powerStep(E, TestMath.column(Dict, D, j));
        for (int i = 0; i < D; i++) {
          assertEquals(expected[i], u[j * D + i], 2e-5, "groups " + groups.count() + " atom " + j + " entry " + i);
        }
        assertEquals(1.0, TestMath.sqNorm(D, u, j * D), 1e-5);
        checked++;
      }
      assertTrue(checked > M / 2, "most atoms are used");
    }
  }

  /** With d passes the Krylov space is the whole space: the top left singular vector of every E_j. */
  @Test
  void enoughPassesReachTheTopSingularVector() {
    AtomGroups groups = AtomGroups.single(M, 3);
    float[][] dict = new float[1][];
    EncodedBlock eb = encoded(groups, 3, 400, 2, dict);
    float[] Dict = dict[0];
    float[] u = passes(eb, groups, Dict, D);
    float[] two = passes(eb, groups, Dict, 2);
    float[] one = passes(eb, groups, Dict, 1);
    double gainTwo = 0, gainOne = 0;
    for (int j = 0; j < M; j++) {
      double[][] E = errorColumns(eb, groups, Dict, j);
      if (E.length < 2) {
        continue;
      }
      float[] dense = new float[D * E.length];
      for (int c = 0; c < E.length; c++) {
        for (int i = 0; i < D; i++) {
          dense[c * D + i] = (float) E[c][i];
        }
      }
      TestMath.Svd svd = TestMath.svd(dense, D, E.length);
      double cos = 0, cos2 = 0, cos1 = 0;
      for (int i = 0; i < D; i++) {
        cos += svd.u()[0][i] * u[j * D + i];
        cos2 += svd.u()[0][i] * two[j * D + i];
        cos1 += svd.u()[0][i] * one[j * D + i];
      }
      if (svd.sigma()[1] < 0.999 * svd.sigma()[0]) { // a top pair apart enough to name one vector
        assertEquals(1.0, Math.abs(cos), 1e-4, "atom " + j);
      }
      gainTwo += Math.abs(cos2);
      gainOne += Math.abs(cos1);
      double start = 0;
      for (int i = 0; i < D; i++) {
        start += Dict[j * D + i] * u[j * D + i];
      }
      assertTrue(start > 0, "the passes keep the sign of the atom they start from");
    }
    assertTrue(gainTwo > gainOne, "two passes come closer to the top vectors than one: " + gainTwo + " vs " + gainOne);
  }

  /** The samples split into blocks in any way (even an empty block) give bit-identical sums and atoms. */
  @Test
  void sumsDoNotDependOnHowSamplesAreSplit() {
    AtomGroups groups = AtomGroups.matryoshka(3, M, 4, null);
    float[][] dict = new float[1][];
    EncodedBlock eb = encoded(groups, 4, 500, 3, dict);
    float[] Dict = dict[0];
    int e = JacobiUpdate.exponent(JacobiUpdate.termBound(eb), eb.n);
    double[] align = JacobiUpdate.alignment(Dict, Dict, D, M);
    JacobiUpdate.Sums whole = JacobiUpdate.accumulate(eb, groups, Dict, Dict, align, e);
    SplittableRandom rng = new SplittableRandom(4);
    for (int parts : new int[] {2, 3, 7}) {
      int[] part = new int[eb.n];
      for (int s = 0; s < eb.n; s++) {
        part[s] = rng.nextInt(parts);
      }
      int[] bounds = JacobiUpdate.ranges(M, 3);
      JacobiUpdate.Sums[] total = null;
      JacobiUpdate.Sums[] into = new JacobiUpdate.Sums[bounds.length - 1]; // every block into one set (executors)
      for (int r = 0; r < into.length; r++) {
        into[r] = new JacobiUpdate.Sums(D, bounds[r], bounds[r + 1], e);
      }
      for (int p = parts - 1; p >= 0; p--) { // blocks in reverse order, too
        JacobiUpdate.Sums[] s = JacobiUpdate.accumulate(subset(eb, groups, part, p), groups, Dict, Dict, align, e,
            bounds);
        if (total == null) {
          total = s;
        } else {
          for (int r = 0; r < s.length; r++) {
            total[r].add(s[r]);
          }
        }
        JacobiUpdate.accumulateInto(into, subset(eb, groups, part, (p + 1) % parts), groups, Dict, null, Dict,
            align, JacobiUpdate.chunkColumns(D));
      }
      for (JacobiUpdate.Sums r : java.util.stream.Stream.concat(java.util.Arrays.stream(total),
          java.util.Arrays.stream(into)).toList()) {
        for (int j = r.from; j < r.to; j++) {
          assertEquals(whole.omega[j], r.omega[j - r.from]);
          assertEquals(whole.c[j], r.c[j - r.from], "c of atom " + j);
          assertEquals(whole.vv[j], r.vv[j - r.from], "vv of atom " + j);
          for (int i = 0; i < D; i++) {
            assertEquals(whole.w[j * D + i], r.w[(j - r.from) * D + i], "w of atom " + j);
          }
        }
        assertArrayEquals(java.util.Arrays.copyOfRange(JacobiUpdate.Step.of(whole, Dict).w(), r.from * D, r.to * D),
            JacobiUpdate.Step.of(r, Dict).w());
      }
    }
  }

  /**
   * The same at d = 200 (several vectors and a tail per dot product), where a dot product computed by a different
   * grouping of columns would round differently: each sample's terms must not depend on its neighbours.
   */
  @Test
  void sumsDoNotDependOnTheSplitAtWideDimensions() {
    int d = 200, m = 30, n = 400, k = 3;
    SplittableRandom rng = new SplittableRandom(9);
    float[] Dict = TestMath.randomUnitDictionary(d, m, rng);
    EncodedBlock eb = gaussianBlock(d, m, n, k, rng);
    AtomGroups groups = AtomGroups.single(m, k);
    int e = JacobiUpdate.exponent(JacobiUpdate.termBound(eb), n);
    float[] q = TestMath.randomUnitDictionary(d, m, rng);
    double[] align = JacobiUpdate.alignment(Dict, q, d, m);
    JacobiUpdate.Sums whole = JacobiUpdate.accumulate(eb, groups, Dict, q, align, e);
    int[] part = new int[n];
    for (int s = 0; s < n; s++) {
      part[s] = rng.nextInt(5);
    }
    JacobiUpdate.Sums total = null;
    for (int p = 0; p < 5; p++) {
      JacobiUpdate.Sums one = JacobiUpdate.accumulate(subset(eb, groups, part, p), groups, Dict, q, align, e);
      total = total == null ? one : total.add(one);
    }
    assertArrayEquals(whole.w, total.w);
    assertArrayEquals(whole.c, total.c);
    assertArrayEquals(whole.vv, total.vv);
  }

  /**
   * Taking an atom's columns a chunk at a time (dot products, then sums, chunk after chunk) changes no bit, whatever
   * the chunk; the default chunk is about 128 KiB of columns, at least 8.
   */
  @Test
  void chunksOfColumnsChangeNoBit() {
    int d = 200, m = 6, n = 300, k = 2;
    SplittableRandom rng = new SplittableRandom(12);
    float[] Dict = TestMath.randomUnitDictionary(d, m, rng);
    EncodedBlock eb = gaussianBlock(d, m, n, k, rng);
    AtomGroups groups = AtomGroups.single(m, k);
    int e = JacobiUpdate.exponent(JacobiUpdate.termBound(eb), n);
    float[] q = TestMath.randomUnitDictionary(d, m, rng);
    double[] align = JacobiUpdate.alignment(Dict, q, d, m);
    int[] bounds = {0, 2, m};
    JacobiUpdate.Sums[] whole = JacobiUpdate.accumulateInChunks(eb, groups, Dict, null, q, align, e,
        Integer.MAX_VALUE, bounds);
    assertTrue(whole[0].omega[0] > 64, "atoms with many columns: " + whole[0].omega[0]);
    for (int chunk : new int[] {1, 3, 8, 13, 64}) {
      JacobiUpdate.Sums[] part = JacobiUpdate.accumulateInChunks(eb, groups, Dict, null, q, align, e, chunk, bounds);
      for (int r = 0; r < bounds.length - 1; r++) {
        assertArrayEquals(whole[r].w, part[r].w, "chunk " + chunk);
        assertArrayEquals(whole[r].c, part[r].c, "chunk " + chunk);
        assertArrayEquals(whole[r].vv, part[r].vv, "chunk " + chunk);
        assertArrayEquals(whole[r].omega, part[r].omega, "chunk " + chunk);
      }
    }
    assertEquals(8, JacobiUpdate.chunkColumns(2304));
    assertEquals(80, JacobiUpdate.chunkColumns(384));
    assertEquals(8, JacobiUpdate.chunkColumns(16384));
    assertEquals(32768, JacobiUpdate.chunkColumns(1));
  }

  /**
   * n samples with Gaussian residuals (d × n) and k Gaussian coefficients on atoms drawn from m (repeats add up),
   * ‖y‖² = 4d for the term bound.
   */
  static EncodedBlock gaussianBlock(int d, int m, int n, int k, SplittableRandom rng) {
    SparseCodes codes = new SparseCodes(n, k);
    float[] R = TestMath.gaussianMatrix(d, n, rng);
    double[] ySq = new double[n];
    long[] rowId = new long[n];
    for (int s = 0; s < n; s++) {
      for (int t = 0; t < k; t++) {
        codes.accumulate(s, rng.nextInt(m), (float) TestMath.gaussian(rng));
      }
      ySq[s] = 4 * d;
      rowId[s] = s;
    }
    return new EncodedBlock(d, rowId, codes, R, ySq, ySq.clone());
  }

  /** Samples s with part[s] == p, as a block of their own (codes, samples, residuals, norms copied). */
  static EncodedBlock subset(EncodedBlock eb, AtomGroups groups, int[] part, int p) {
    int n = 0;
    for (int v : part) {
      n += v == p ? 1 : 0;
    }
    SparseCodes codes = new SparseCodes(n, eb.codes.capacity);
    long[] rowId = new long[n];
    float[] residual = new float[eb.d * n];
    float[] Y = eb.Y == null ? null : new float[eb.d * n];
    double[] ySq = new double[n];
    double[] rSq = new double[n];
    int c = 0;
    for (int s = 0; s < eb.n; s++) {
      if (part[s] != p) {
        continue;
      }
      rowId[c] = eb.rowId[s];
      ySq[c] = eb.ySqNorm[s];
      rSq[c] = eb.rSqNorm[s];
      for (int t = 0; t < eb.codes.count[s]; t++) {
        codes.accumulate(c, eb.codes.atom[s * eb.codes.capacity + t], eb.codes.value[s * eb.codes.capacity + t]);
      }
      System.arraycopy(eb.residual, s * eb.d, residual, c * eb.d, eb.d);
      if (Y != null) {
        System.arraycopy(eb.Y, s * eb.d, Y, c * eb.d, eb.d);
      }
      c++;
    }
    return new EncodedBlock(eb.d, rowId, codes, residual, Y, groups, ySq, rSq);
  }

  @Test
  void theGridLeavesRoomForEverySum() {
    AtomGroups groups = AtomGroups.single(M, 3);
    float[][] dict = new float[1][];
    EncodedBlock eb = encoded(groups, 3, 300, 5, dict);
    double bound = JacobiUpdate.termBound(eb);
    int e = JacobiUpdate.exponent(bound, eb.n);
    assertTrue(Math.scalb(bound, e) * eb.n < Math.scalb(1.0, 51), "n terms at the bound stay below 2^51");
    assertTrue(Math.scalb(bound, e) * eb.n > Math.scalb(1.0, 45), "and the grid is not needlessly coarse");
    JacobiUpdate.Sums s = JacobiUpdate.accumulate(eb, groups, dict[0], dict[0],
        JacobiUpdate.alignment(dict[0], dict[0], D, M), e);
    for (double w : s.w) {
      assertEquals(Math.rint(w), w, "integers");
      assertTrue(Math.abs(w) < Math.scalb(1.0, 51));
    }
    assertEquals(0, JacobiUpdate.exponent(0, 10), "an all-zero batch");
    assertFalse(JacobiUpdate.exponent(1e30, 65536) > 0, "large values: a coarse grid");
  }
}
