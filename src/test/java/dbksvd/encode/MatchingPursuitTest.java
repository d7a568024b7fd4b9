package dbksvd.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import dbksvd.linalg.Blas;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * MatchingPursuit works on correlations p = Dᵀy and G = DᵀD only; the reference below works on the explicit
 * residual vector in double precision, exactly as the textbook algorithm: j = argmax|Dᵀr|, a = d_jᵀr, x_j += a,
 * r −= a·d_j.
 */
class MatchingPursuitTest {

  /** The reference run: the atom picked at each step, the dense code, and ‖r‖ after each step. */
  record Reference(List<Integer> picks, double[] x, double[] residual, List<Double> rNorms) {}

  static Reference referenceMp(float[] D, int d, int m, double[] y, int k, double rtol) {
    double[] r = y.clone();
    double[] x = new double[m];
    List<Integer> picks = new ArrayList<>();
    List<Double> norms = new ArrayList<>();
    double yNorm = Math.sqrt(TestMath.sqNorm(y));
    for (int step = 0; step < k; step++) {
      if (Math.sqrt(TestMath.sqNorm(r)) <= rtol * yNorm) {
        break;
      }
      int best = -1;
      double bestAbs = -1;
      double bestA = 0;
      for (int j = 0; j < m; j++) {
        double a = 0;
        for (int i = 0; i < d; i++) {
          a += D[j * d + i] * r[i];
        }
        if (Math.abs(a) > bestAbs) {
          bestAbs = Math.abs(a);
          best = j;
          bestA = a;
        }
      }
      x[best] += bestA;
      for (int i = 0; i < d; i++) {
        r[i] -= bestA * D[best * d + i];
      }
      picks.add(best);
      norms.add(Math.sqrt(TestMath.sqNorm(r)));
    }
    return new Reference(picks, x, r, norms);
  }

  /** Encodes the n columns of Y with the encoder against the whole dictionary; returns the tracked ‖r‖². */
  static double[] encodeAll(Encoder enc, Dictionary dict, float[] Y, int n, SparseCodes codes) {
    float[] P = new float[dict.m * n];
    Blas.correlations(dict.D, dict.d, 0, dict.m, Y, 0, n, P);
    Object scratch = enc.newScratch(dict.m);
    double[] tracked = new double[n];
    for (int s = 0; s < n; s++) {
      tracked[s] = enc.encode(dict, 0, dict.m, P, s * dict.m, TestMath.sqNorm(dict.d, Y, s * dict.d), codes, s,
          scratch);
    }
    return tracked;
  }

  @Test
  void agreesWithExplicitResidualReference() {
    int[][] shapes = {{16, 32, 4}, {24, 64, 8}, {8, 20, 6}, {32, 48, 12}};
    SplittableRandom rng = new SplittableRandom(11);
    double worstCoef = 0, worstNorm = 0, meanReduction = 0;
    int samples = 0;
    for (int[] sh : shapes) {
      int d = sh[0], m = sh[1], k = sh[2], n = 60;
      float[] D = TestMath.randomUnitDictionary(d, m, rng);
      float[] Y = TestMath.gaussianMatrix(d, n, rng);
      Dictionary dict = new Dictionary(D, d, m);
      SparseCodes codes = new SparseCodes(n, k);
      double[] tracked = encodeAll(new MatchingPursuit(k, 0), dict, Y, n, codes);
      for (int s = 0; s < n; s++) {
        double[] y = TestMath.column(Y, d, s);
        Reference ref = referenceMp(D, d, m, y, k, 0);
        assertEquals(k, ref.picks.size());
        Set<Integer> refAtoms = new HashSet<>(ref.picks);
        Set<Integer> got = new HashSet<>();
        for (int t = 0; t < codes.count[s]; t++) {
          got.add(codes.atom[s * codes.capacity + t]);
        }
        assertEquals(refAtoms, got, "atoms of sample " + s + " (d=" + d + ", m=" + m + ", k=" + k + ")");
        float[] x = codes.dense(s, m);
        for (int j = 0; j < m; j++) {
          assertEquals(ref.x[j], x[j], 1e-5, "coefficient of atom " + j + ", sample " + s);
          worstCoef = Math.max(worstCoef, Math.abs(ref.x[j] - x[j]));
        }
        double exact = TestMath.sqNorm(TestMath.residual(D, d, Y, s, codes));
        double rel = Math.abs(tracked[s] - exact) / exact;
        assertTrue(rel <= 1e-4, "tracked ‖r‖² " + tracked[s] + " vs ‖y − Dx‖² " + exact + " (sample " + s + ")");
        worstNorm = Math.max(worstNorm, rel);
        meanReduction += exact / TestMath.sqNorm(y);
        samples++;
      }
    }
    System.out.printf("MP vs explicit-residual reference, %d samples: max |Δx| %.2e, max rel. error of tracked "
        + "‖r‖² %.2e, mean ‖r‖²/‖y‖² %.3f%n", samples, worstCoef, worstNorm, meanReduction / samples);
  }

  @Test
  void stopsEarlyAtRtolButNeverExceedsK() {
    int d = 32, m = 64, k = 10, n = 200;
    SplittableRandom rng = new SplittableRandom(12);
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    Dictionary dict = new Dictionary(D, d, m);
    // sparse-ish samples so that some reach the tolerance early and some do not
    float[] Y = new float[d * n];
    for (int s = 0; s < n; s++) {
      int nnz = 1 + rng.nextInt(6);
      for (int t = 0; t < nnz; t++) {
        Blas.axpy(d, (float) TestMath.gaussian(rng), D, rng.nextInt(m) * d, Y, s * d);
      }
      for (int i = 0; i < d; i++) {
        Y[s * d + i] += (float) (0.05 * TestMath.gaussian(rng));
      }
    }
    double rtol = 0.3;
    SparseCodes codes = new SparseCodes(n, k);
    double[] tracked = encodeAll(new MatchingPursuit(k, rtol), dict, Y, n, codes);
    int early = 0, full = 0;
    for (int s = 0; s < n; s++) {
      double[] y = TestMath.column(Y, d, s);
      double yNorm = Math.sqrt(TestMath.sqNorm(y));
      Reference ref = referenceMp(D, d, m, y, k, rtol);
      assertTrue(codes.count[s] <= k);
      float[] x = codes.dense(s, m);
      for (int j = 0; j < m; j++) {
        assertEquals(ref.x[j], x[j], 1e-5, "coefficient of atom " + j + ", sample " + s);
      }
      double rNorm = Math.sqrt(TestMath.sqNorm(TestMath.residual(D, d, Y, s, codes)));
      int steps = ref.picks.size();
      if (steps < k) {
        early++;
        assertTrue(rNorm <= rtol * yNorm * (1 + 1e-4), "stopped early above the tolerance, sample " + s);
      } else {
        full++;
      }
      // it never stopped later than necessary: before the last step the residual was above the tolerance
      double before = steps >= 2 ? ref.rNorms.get(steps - 2) : yNorm;
      assertTrue(before > rtol * yNorm * (1 - 1e-4), "kept going below the tolerance, sample " + s);
      assertTrue(Math.sqrt(tracked[s]) <= rtol * yNorm * (1 + 1e-4) || steps == k);
    }
    System.out.printf("MP rtol=%.2f k=%d: %d samples stopped early, %d used all k steps%n", rtol, k, early, full);
    assertTrue(early > 0 && full > 0, "the data should exercise both cases: early " + early + ", full " + full);
  }

  @Test
  void reselectionAccumulatesInOneSlot() {
    // two atoms 0.2 rad apart in the plane: MP zig-zags between them, picking each several times
    int d = 2, m = 2, k = 9;
    double th = 0.2;
    float[] D = {1f, 0f, (float) Math.cos(th), (float) Math.sin(th)};
    Dictionary dict = new Dictionary(D, d, m);
    float[] Y = {0.3f, 1.0f};
    SparseCodes codes = new SparseCodes(1, k);
    double[] tracked = encodeAll(new MatchingPursuit(k, 0), dict, Y, 1, codes);
    Reference ref = referenceMp(D, d, m, TestMath.column(Y, d, 0), k, 0);
    long distinct = ref.picks.stream().distinct().count();
    assertEquals(2, distinct);
    assertTrue(ref.picks.size() == k, "the reference took all k steps");
    assertEquals(2, codes.count[0], "a re-selected atom must not take a second slot");
    assertEquals(ref.x[0], codes.get(0, 0), 1e-5);
    assertEquals(ref.x[1], codes.get(0, 1), 1e-5);
    double exact = TestMath.sqNorm(TestMath.residual(D, d, Y, 0, codes));
    assertEquals(exact, tracked[0], 1e-4 * TestMath.sqNorm(d, Y, 0));
    System.out.printf("MP zig-zag on two atoms 0.2 rad apart, k=%d: picks %s, ‖r‖²/‖y‖² = %.2e%n", k, ref.picks,
        exact / TestMath.sqNorm(d, Y, 0));
  }

  @Test
  void overcompleteInLowDimensionKeepsDistinctSlots() {
    // m = 3 atoms in d = 2 with k = 8 steps: atoms are re-picked all the time
    int d = 2, m = 3, k = 8, n = 100;
    SplittableRandom rng = new SplittableRandom(13);
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    float[] Y = TestMath.gaussianMatrix(d, n, rng);
    Dictionary dict = new Dictionary(D, d, m);
    SparseCodes codes = new SparseCodes(n, k);
    encodeAll(new MatchingPursuit(k, 0), dict, Y, n, codes);
    int reselected = 0;
    for (int s = 0; s < n; s++) {
      assertTrue(codes.count[s] <= m);
      Set<Integer> ids = new HashSet<>();
      for (int t = 0; t < codes.count[s]; t++) {
        assertTrue(ids.add(codes.atom[s * codes.capacity + t]), "duplicate atom id in sample " + s);
      }
      Reference ref = referenceMp(D, d, m, TestMath.column(Y, d, s), k, 0);
      if (ref.picks.size() > ref.picks.stream().distinct().count()) {
        reselected++;
      }
      float[] x = codes.dense(s, m);
      for (int j = 0; j < m; j++) {
        assertEquals(ref.x[j], x[j], 1e-4, "coefficient of atom " + j + ", sample " + s);
      }
    }
    assertTrue(reselected > 0, "no sample re-selected an atom; the case does not test accumulation");
  }

  /**
   * Two samples coded in step (encodePair) get the codes of two separate encode calls, bit for bit: the same
   * atoms in the same slots with the same coefficients, also when rtol stops one sample before the other, when a
   * sample is zero, and in a Matryoshka-like sub-range of the atoms.
   */
  @Test
  void pairsCodeLikeSingles() {
    SplittableRandom rng = new SplittableRandom(21);
    int d = 24, m = 60;
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    Dictionary dict = new Dictionary(D, d, m);
    int n = 40;
    float[] Y = TestMath.gaussianMatrix(d, n, rng);
    java.util.Arrays.fill(Y, 5 * d, 6 * d, 0f); // a zero sample: its first a is 0
    for (double rtol : new double[] {0, 0.5, 0.9}) {
      for (int[] range : new int[][] {{0, m}, {20, 25}}) {
        MatchingPursuit mp = new MatchingPursuit(7, rtol);
        float[] P = new float[range[1] * n];
        Blas.correlations(D, d, range[0], range[1], Y, 0, n, P);
        float[] P2 = P.clone();
        SparseCodes single = new SparseCodes(n, 7);
        SparseCodes paired = new SparseCodes(n, 7);
        for (int s = 0; s < n; s++) {
          mp.encode(dict, range[0], range[1], P, s * range[1], Blas.sqNorm(d, Y, s * d), single, s, null);
        }
        for (int s = 0; s + 1 < n; s += 2) {
          mp.encodePair(dict, range[0], range[1], P2, s * range[1], Blas.sqNorm(d, Y, s * d), s, (s + 1) * range[1],
              Blas.sqNorm(d, Y, (s + 1) * d), s + 1, paired, null);
        }
        for (int s = 0; s < n; s++) {
          String at = "rtol " + rtol + " range " + range[0] + "+" + range[1] + " sample " + s;
          assertEquals(single.count[s], paired.count[s], at);
          for (int t = 0; t < single.count[s]; t++) {
            assertEquals(single.atom[s * 7 + t], paired.atom[s * 7 + t], at);
            assertEquals(Float.floatToIntBits(single.value[s * 7 + t]), Float.floatToIntBits(paired.value[s * 7 + t]),
                at);
          }
        }
        assertEquals(0, single.count[5], "the zero sample gets no atom");
      }
    }
  }
}
