package dbksvd.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.MatchingPursuit;
import dbksvd.linalg.Blas;
import dbksvd.synth.PlantedData;
import dbksvd.util.Seeds;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MetricsTest {
  static final int d = 24, m = 48, k = 4;

  static EncodedBlock encode(Dictionary dict, float[] Y, long from, int n) {
    long[] ids = new long[n];
    for (int s = 0; s < n; s++) {
      ids[s] = from + s;
    }
    return EncodedBlock.encode(dict, AtomGroups.single(m, k), new MatchingPursuit(k, 0), Y, ids, 17);
  }

  @Test
  void batchStatsMatchDirectComputation() {
    PlantedData pd = new PlantedData(d, m, k, 15, 61);
    int n = 200;
    float[] Y = pd.rows(0, n);
    // mean shift so that SST ≠ Σ‖y‖²
    for (int s = 0; s < n; s++) {
      for (int i = 0; i < d; i++) {
        Y[s * d + i] += 0.3f * (i % 3);
      }
    }
    float[] D = TestMath.randomUnitDictionary(d, m, new SplittableRandom(62));
    Dictionary dict = new Dictionary(D, d, m);
    EncodedBlock eb = encode(dict, Y, 0, n);
    BatchStats st = new BatchStats(d, m).add(eb, Y);

    double[] mean = new double[d];
    for (int s = 0; s < n; s++) {
      for (int i = 0; i < d; i++) {
        mean[i] += Y[s * d + i] / (double) n;
      }
    }
    double sse = 0, sst = 0, relErr = 0, l0 = 0;
    long[] usage = new long[m];
    for (int s = 0; s < n; s++) {
      double r2 = TestMath.sqNorm(TestMath.residual(D, d, Y, s, eb.codes));
      double y2 = TestMath.sqNorm(d, Y, s * d);
      sse += r2;
      relErr += Math.sqrt(r2 / y2);
      for (int i = 0; i < d; i++) {
        double c = Y[s * d + i] - mean[i];
        sst += c * c;
      }
      for (int j = 0; j < m; j++) {
        if (eb.codes.get(s, j) != 0f) {
          l0++;
          usage[j]++;
        }
      }
    }
    int dead = 0;
    for (long u : usage) {
      dead += u == 0 ? 1 : 0;
    }
    assertEquals(n, st.n);
    assertEquals(sst, st.sst(), 1e-9 * sst, "SST");
    assertEquals(sse, st.sse(), 1e-5 * sse, "SSE");
    assertEquals(1 - sse / sst, st.fve(), 1e-5, "FVE");
    assertEquals(relErr / n, st.relativeError(), 1e-5, "relative error");
    assertEquals(l0 / n, st.meanL0(), 1e-12, "mean L0");
    assertArrayEquals(usage, st.usage);
    assertEquals(dead, st.deadAtoms());
    System.out.printf("BatchStats: FVE %.4f (direct %.4f), rel.err %.4f, L0 %.2f, dead %d%n", st.fve(),
        1 - sse / sst, st.relativeError(), st.meanL0(), st.deadAtoms());
    assertTrue(Double.isNaN(new BatchStats(d, m).fve()), "no samples, no FVE");
  }

  @Test
  void mergeOfHalvesEqualsWhole() {
    PlantedData pd = new PlantedData(d, m, k, 20, 63);
    int n = 150, half = 70;
    float[] Y = pd.rows(0, n);
    Dictionary dict = new Dictionary(pd.D, d, m);
    BatchStats whole = new BatchStats(d, m).add(encode(dict, Y, 0, n), Y);
    float[] Ya = java.util.Arrays.copyOfRange(Y, 0, half * d);
    float[] Yb = java.util.Arrays.copyOfRange(Y, half * d, n * d);
    BatchStats a = new BatchStats(d, m).add(encode(dict, Ya, 0, half), Ya);
    BatchStats b = new BatchStats(d, m).add(encode(dict, Yb, half, n - half), Yb);
    BatchStats merged = new BatchStats(d, m).merge(a).merge(b);
    assertEquals(whole.n, merged.n);
    assertEquals(whole.sumL0, merged.sumL0);
    assertArrayEquals(whole.usage, merged.usage);
    assertArrayEquals(whole.sumY(), merged.sumY(), 1e-9);
    assertEquals(whole.sumYSq(), merged.sumYSq(), 1e-9 * whole.sumYSq());
    assertEquals(whole.sse(), merged.sse(), 1e-6 * whole.sse());
    // blocks combined in any order or grouping: the same bits
    BatchStats c = new BatchStats(d, m).add(encode(dict, Yb, half, n - half), Yb);
    BatchStats other = new BatchStats(d, m).merge(c).merge(new BatchStats(d, m).merge(a));
    assertEquals(merged.fve(), other.fve());
    assertEquals(merged.relativeError(), other.relativeError());
    assertArrayEquals(merged.sumY(), other.sumY());
    assertEquals(whole.fve(), merged.fve(), 1e-6);
    assertEquals(whole.relativeError(), merged.relativeError(), 1e-6);
    // a one-half stats object differs from the whole: the test compares something
    assertTrue(a.n != whole.n && Math.abs(a.sst() - whole.sst()) > 1e-3);
  }

  @Test
  void recoveryRate() {
    SplittableRandom rng = new SplittableRandom(64);
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    int[] perm = Seeds.permutation(m, rng);
    float[] P = new float[d * m];
    for (int j = 0; j < m; j++) {
      float sign = rng.nextBoolean() ? 1f : -1f;
      for (int i = 0; i < d; i++) {
        P[perm[j] * d + i] = sign * D[j * d + i];
      }
    }
    assertEquals(1.0, DictionaryMetrics.recoveryRate(D, m, P, m, d, 0.01));
    // the reference may hold more atoms than the learned dictionary and vice versa
    assertEquals(0.5, DictionaryMetrics.recoveryRate(D, m, P, m / 2, d, 0.01), 0.5 / m + 1e-12,
        "half the permuted atoms: about half recovered");
    float[] R = TestMath.randomUnitDictionary(d, m, rng);
    double random = DictionaryMetrics.recoveryRate(D, m, R, m, d, 0.01);
    System.out.printf("recovery rate: permuted/sign-flipped copy 1.00, random dictionary %.3f%n", random);
    assertTrue(random <= 0.05, "random dictionary recovery " + random);
    // atoms tilted by a known angle: |cos| = 0.995 passes the 0.01 threshold and fails a 0.001 one
    double cos = 0.995, sin = Math.sqrt(1 - cos * cos);
    float[] T = new float[d * m];
    for (int j = 0; j < m; j++) {
      float[] w = TestMath.gaussianMatrix(d, 1, rng);
      double c = TestMath.dot(d, w, 0, D, j * d);
      for (int i = 0; i < d; i++) {
        w[i] -= (float) (c * D[j * d + i]);
      }
      double wn = Math.sqrt(TestMath.sqNorm(d, w, 0));
      for (int i = 0; i < d; i++) {
        T[j * d + i] = (float) (cos * D[j * d + i] + sin * w[i] / wn);
      }
    }
    assertEquals(1.0, DictionaryMetrics.recoveryRate(D, m, T, m, d, 0.01));
    assertEquals(0.0, DictionaryMetrics.recoveryRate(D, m, T, m, d, 0.001));
  }

  @Test
  void perAtomCoherenceMatchesDirectComputation() {
    SplittableRandom rng = new SplittableRandom(65);
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    // make atoms 3 and 7 nearly parallel so that the maximum is known to be theirs
    for (int i = 0; i < d; i++) {
      D[7 * d + i] = -(D[3 * d + i] + 0.05f * D[7 * d + i]);
    }
    Blas.normalizeColumns(D, d, m);
    double[] c = DictionaryMetrics.perAtomCoherence(Blas.gram(D, d, m), m);
    double[] blocks = DictionaryMetrics.perAtomCoherence(D, d, 0, m); // from D in column blocks, no G
    double[] range = DictionaryMetrics.perAtomCoherence(D, d, 2, m - 4); // atoms 2..m-3 among themselves
    double max = 0, sum = 0;
    for (int j = 0; j < m; j++) {
      double best = 0;
      for (int i = 0; i < m; i++) {
        if (i != j) {
          best = Math.max(best, Math.abs(TestMath.dot(d, D, i * d, D, j * d)));
        }
      }
      assertEquals(best, c[j], 1e-6, "coherence of atom " + j);
      assertEquals(best, blocks[j], 1e-6, "blockwise coherence of atom " + j);
      if (j >= 2 && j < m - 2) {
        double inRange = 0;
        for (int i = 2; i < m - 2; i++) {
          if (i != j) {
            inRange = Math.max(inRange, Math.abs(TestMath.dot(d, D, i * d, D, j * d)));
          }
        }
        assertEquals(inRange, range[j - 2], 1e-6, "coherence of atom " + j + " within the range");
      }
      max = Math.max(max, best);
      sum += best;
    }
    assertEquals(max, DictionaryMetrics.coherence(c), 1e-6);
    assertEquals(Math.abs(TestMath.dot(d, D, 3 * d, D, 7 * d)), DictionaryMetrics.coherence(c), 1e-6);
    assertEquals(sum / m, DictionaryMetrics.mean(c), 1e-6);
    long[] h = DictionaryMetrics.histogram(c, 10);
    assertEquals(m, java.util.Arrays.stream(h).sum());
    assertEquals(2, h[9], "atoms 3 and 7 are in the top bin");
  }
}
