package dbksvd.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import dbksvd.synth.PlantedData;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OrthogonalMatchingPursuitTest {

  static int[] support(SparseCodes codes, int s) {
    int[] a = new int[codes.count[s]];
    System.arraycopy(codes.atom, s * codes.capacity, a, 0, a.length);
    return a;
  }

  /** argmin ‖y − D_I γ‖ by the normal equations in double. */
  static double[] leastSquares(float[] D, int d, int[] I, double[] y) {
    int n = I.length;
    double[] A = new double[n * n];
    double[] b = new double[n];
    for (int p = 0; p < n; p++) {
      for (int q = 0; q < n; q++) {
        A[p * n + q] = TestMath.dot(d, D, I[p] * d, D, I[q] * d);
      }
      for (int i = 0; i < d; i++) {
        b[p] += D[I[p] * d + i] * y[i];
      }
    }
    return TestMath.solveSpd(A, b, n);
  }

  @Test
  void residualIsOrthogonalToSupportAndCoefficientsAreLeastSquares() {
    int[][] shapes = {{16, 32, 4}, {24, 64, 8}, {32, 48, 12}, {12, 40, 6}};
    SplittableRandom rng = new SplittableRandom(21);
    double worstOrth = 0, worstCoef = 0, worstNorm = 0;
    for (int[] sh : shapes) {
      int d = sh[0], m = sh[1], k = sh[2], n = 60;
      float[] D = TestMath.randomUnitDictionary(d, m, rng);
      float[] Y = TestMath.gaussianMatrix(d, n, rng);
      Dictionary dict = new Dictionary(D, d, m);
      SparseCodes codes = new SparseCodes(n, k);
      double[] tracked = MatchingPursuitTest.encodeAll(new OrthogonalMatchingPursuit(k, 0), dict, Y, n, codes);
      for (int s = 0; s < n; s++) {
        double[] y = TestMath.column(Y, d, s);
        double yNorm = Math.sqrt(TestMath.sqNorm(y));
        int[] I = support(codes, s);
        assertEquals(k, I.length, "random data in general position: OMP takes k atoms");
        assertEquals(I.length, new HashSet<>(java.util.Arrays.stream(I).boxed().toList()).size());
        double[] r = TestMath.residual(D, d, Y, s, codes);
        for (int j : I) {
          double c = 0;
          for (int i = 0; i < d; i++) {
            c += D[j * d + i] * r[i];
          }
          assertTrue(Math.abs(c) <= 1e-4 * yNorm, "d_jᵀr = " + c + " for chosen atom " + j + ", sample " + s);
          worstOrth = Math.max(worstOrth, Math.abs(c) / yNorm);
        }
        double[] ls = leastSquares(D, d, I, y);
        for (int t = 0; t < I.length; t++) {
          double got = codes.get(s, I[t]);
          assertEquals(ls[t], got, 1e-4 * Math.max(1, Math.abs(ls[t])), "coefficient of atom " + I[t]);
          worstCoef = Math.max(worstCoef, Math.abs(ls[t] - got));
        }
        double exact = TestMath.sqNorm(r);
        double rel = Math.abs(tracked[s] - exact) / exact;
        assertTrue(rel <= 1e-4, "tracked ‖r‖² " + tracked[s] + " vs " + exact + ", sample " + s);
        worstNorm = Math.max(worstNorm, rel);
      }
    }
    System.out.printf("OMP: max |d_jᵀr|/‖y‖ %.2e, max |x − x_LS| %.2e, max rel. error of tracked ‖r‖² %.2e%n",
        worstOrth, worstCoef, worstNorm);
  }

  /** The identity plus a normalised Sylvester-Hadamard basis: d = 64, m = 128, mutual coherence 1/8. */
  static float[] identityHadamard(int d) {
    float[] D = new float[d * 2 * d];
    double h = 1 / Math.sqrt(d);
    for (int j = 0; j < d; j++) {
      D[j * d + j] = 1f;
      for (int i = 0; i < d; i++) {
        D[(d + j) * d + i] = (float) (Integer.bitCount(i & j) % 2 == 0 ? h : -h);
      }
    }
    return D;
  }

  @Test
  void exactSupportRecoveryInIncoherentDictionary() {
    // Tropp (2004): OMP recovers every k-sparse y exactly when k < (1 + 1/μ)/2; μ = 1/8 allows k = 4.
    int d = 64, m = 128, k = 4, n = 300;
    float[] D = identityHadamard(d);
    Dictionary dict = new Dictionary(D, d, m);
    double mu = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < i; j++) {
        mu = Math.max(mu, Math.abs(TestMath.dot(d, D, i * d, D, j * d)));
      }
    }
    assertTrue(k < (1 + 1 / mu) / 2, "the recovery guarantee applies (μ = " + mu + ")");
    SplittableRandom rng = new SplittableRandom(22);
    float[] Y = new float[d * n];
    int[][] planted = new int[n][k];
    double[][] values = new double[n][k];
    for (int s = 0; s < n; s++) {
      int[] perm = dbksvd.util.Seeds.permutation(m, rng);
      for (int t = 0; t < k; t++) {
        planted[s][t] = perm[t];
        values[s][t] = (rng.nextBoolean() ? 1 : -1) * (0.5 + rng.nextDouble());
        for (int i = 0; i < d; i++) {
          Y[s * d + i] += (float) (values[s][t] * D[perm[t] * d + i]);
        }
      }
    }
    SparseCodes codes = new SparseCodes(n, k);
    MatchingPursuitTest.encodeAll(new OrthogonalMatchingPursuit(k, 0), dict, Y, n, codes);
    double worst = 0;
    for (int s = 0; s < n; s++) {
      Set<Integer> want = new HashSet<>();
      for (int j : planted[s]) {
        want.add(j);
      }
      Set<Integer> got = new HashSet<>();
      for (int j : support(codes, s)) {
        got.add(j);
      }
      assertEquals(want, got, "support of sample " + s);
      for (int t = 0; t < k; t++) {
        assertEquals(values[s][t], codes.get(s, planted[s][t]), 1e-4);
        worst = Math.max(worst, Math.abs(values[s][t] - codes.get(s, planted[s][t])));
      }
    }
    System.out.printf("OMP on identity+Hadamard (d=64, m=128, μ=%.3f), %d exactly %d-sparse samples: all supports "
        + "exact, max coefficient error %.1e%n", mu, n, k, worst);
  }

  @Test
  void findsPlantedSupportOfNoiselessPlantedData() {
    // a random Gaussian dictionary (no guarantee, but d = 64, m = 96, k = 3 is an easy regime)
    PlantedData pd = new PlantedData(64, 96, 3, Double.POSITIVE_INFINITY, 23);
    int n = 200;
    float[] Y = new float[pd.d * n];
    int[][] sup = new int[n][pd.k];
    for (int s = 0; s < n; s++) {
      pd.row(s, Y, s * pd.d, sup[s], new float[pd.k]);
    }
    Dictionary dict = new Dictionary(pd.D, pd.d, pd.m);
    SparseCodes codes = new SparseCodes(n, pd.k);
    double[] tracked = MatchingPursuitTest.encodeAll(new OrthogonalMatchingPursuit(pd.k, 0), dict, Y, n, codes);
    int exact = 0;
    for (int s = 0; s < n; s++) {
      Set<Integer> want = new HashSet<>();
      for (int j : sup[s]) {
        want.add(j);
      }
      Set<Integer> got = new HashSet<>();
      for (int j : support(codes, s)) {
        got.add(j);
      }
      if (want.equals(got)) {
        exact++;
        assertTrue(tracked[s] <= 1e-6 * TestMath.sqNorm(pd.d, Y, s * pd.d), "exact support leaves ~no residual");
      }
    }
    System.out.printf("OMP on noiseless PlantedData d=64 m=96 k=3: %d/%d supports exact%n", exact, n);
    assertTrue(exact >= 0.97 * n, "exact supports " + exact + "/" + n);
  }

  @Test
  void ompResidualNeverAboveMp() {
    SplittableRandom rng = new SplittableRandom(24);
    int d = 32, m = 64, n = 200;
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    float[] Y = TestMath.gaussianMatrix(d, n, rng);
    Dictionary dict = new Dictionary(D, d, m);
    // k = 2: both pick the same two atoms, and OMP's projection beats MP's two steps sample by sample
    // k = 8: supports may differ after step 2, so only the total is compared
    for (int k : new int[] {2, 8}) {
      SparseCodes cm = new SparseCodes(n, k);
      SparseCodes co = new SparseCodes(n, k);
      MatchingPursuitTest.encodeAll(new MatchingPursuit(k, 0), dict, Y, n, cm);
      MatchingPursuitTest.encodeAll(new OrthogonalMatchingPursuit(k, 0), dict, Y, n, co);
      double sseMp = 0, sseOmp = 0, sst = 0;
      int better = 0;
      for (int s = 0; s < n; s++) {
        double rm = TestMath.sqNorm(TestMath.residual(D, d, Y, s, cm));
        double ro = TestMath.sqNorm(TestMath.residual(D, d, Y, s, co));
        sseMp += rm;
        sseOmp += ro;
        sst += TestMath.sqNorm(d, Y, s * d);
        if (ro <= rm * (1 + 1e-5)) {
          better++;
        }
        if (k == 2) {
          assertEquals(new HashSet<>(java.util.Arrays.stream(support(cm, s)).boxed().toList()),
              new HashSet<>(java.util.Arrays.stream(support(co, s)).boxed().toList()), "k = 2 supports, " + s);
          assertTrue(ro <= rm * (1 + 1e-5), "k = 2, sample " + s + ": OMP " + ro + " > MP " + rm);
        }
      }
      System.out.printf("k=%d on Gaussian data d=%d m=%d: ‖R‖²/‖Y‖² MP %.4f, OMP %.4f (OMP ≤ MP on %d/%d samples)%n",
          k, d, m, sseMp / sst, sseOmp / sst, better, n);
      assertTrue(sseOmp < sseMp, "OMP total residual " + sseOmp + " above MP's " + sseMp + " at k = " + k);
    }
  }

  @Test
  void stopsAtRtol() {
    SplittableRandom rng = new SplittableRandom(25);
    int d = 32, m = 64, n = 100, k = 10;
    double rtol = 0.5;
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    float[] Y = TestMath.gaussianMatrix(d, n, rng);
    Dictionary dict = new Dictionary(D, d, m);
    SparseCodes codes = new SparseCodes(n, k);
    MatchingPursuitTest.encodeAll(new OrthogonalMatchingPursuit(k, rtol), dict, Y, n, codes);
    SparseCodes all = new SparseCodes(n, k);
    MatchingPursuitTest.encodeAll(new OrthogonalMatchingPursuit(k, 0), dict, Y, n, all);
    int early = 0;
    for (int s = 0; s < n; s++) {
      double y2 = TestMath.sqNorm(d, Y, s * d);
      double r2 = TestMath.sqNorm(TestMath.residual(D, d, Y, s, codes));
      int c = codes.count[s];
      assertTrue(c <= k);
      if (c < k) {
        early++;
        assertTrue(r2 <= rtol * rtol * y2 * (1 + 1e-4), "stopped early above the tolerance, sample " + s);
      }
      // greedy selection is the same with or without the tolerance: the early-stopped support is a prefix
      for (int t = 0; t < c; t++) {
        assertEquals(all.atom[s * k + t], codes.atom[s * k + t], "selection order, sample " + s);
      }
      if (c >= 1) {
        // one atom fewer would still have been above the tolerance
        int[] I = java.util.Arrays.copyOf(support(codes, s), c - 1);
        double[] y = TestMath.column(Y, d, s);
        double[] r = y.clone();
        if (I.length > 0) {
          double[] g = leastSquares(D, d, I, y);
          for (int t = 0; t < I.length; t++) {
            for (int i = 0; i < d; i++) {
              r[i] -= g[t] * D[I[t] * d + i];
            }
          }
        }
        assertTrue(TestMath.sqNorm(r) > rtol * rtol * y2 * (1 - 1e-4), "kept going below the tolerance, " + s);
      }
    }
    System.out.printf("OMP rtol=%.1f k=%d: %d/%d samples stopped early%n", rtol, k, early, n);
    assertTrue(early > 0 && early < n);
  }
}
