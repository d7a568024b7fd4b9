package dbksvd.metrics;

import dbksvd.linalg.Blas;

/** Metrics of a dictionary alone, or against a reference dictionary. */
public final class DictionaryMetrics {
  private DictionaryMetrics() {}

  /** Per-atom coherence: maxCoherence[j] = max over i ≠ j of |dᵢᵀdⱼ|, from G = DᵀD (m × m). */
  public static double[] perAtomCoherence(float[] G, int m) {
    return GramFacts.of(G, m, 0, m, 1).coherence();
  }

  /**
   * Per-atom coherence of the atoms [a0, a0 + mg) of D (d × m) against the others of the same range, from D alone:
   * G is formed in column blocks of at most 256 atoms (never whole), on the JVM's cores — for the report and
   * evaluate, on the driver, of a dictionary of any width.
   */
  public static double[] perAtomCoherence(float[] D, int d, int a0, int mg) {
    double[] c = new double[mg];
    int block = 256;
    java.util.stream.IntStream.range(0, (mg + block - 1) / block).parallel().forEach(b -> {
      int j0 = b * block;
      int cols = Math.min(block, mg - j0);
      float[] P = new float[mg * cols];
      Blas.correlations(D, d, a0, mg, D, a0 + j0, cols, P);
      for (int q = 0; q < cols; q++) {
        double best = 0;
        for (int i = 0; i < mg; i++) {
          if (i != j0 + q) {
            best = Math.max(best, Math.abs(P[q * mg + i]));
          }
        }
        c[j0 + q] = best;
      }
    });
    return c;
  }

  /** μ(D) = max over i ≠ j of |dᵢᵀdⱼ|. */
  public static double coherence(double[] perAtom) {
    double mx = 0;
    for (double v : perAtom) {
      mx = Math.max(mx, v);
    }
    return mx;
  }

  public static double mean(double[] a) {
    double s = 0;
    for (double v : a) {
      s += v;
    }
    return a.length > 0 ? s / a.length : Double.NaN;
  }

  /** Counts of values in [0, 1] over {@code bins} equal bins (for the per-atom coherence histogram). */
  public static long[] histogram(double[] values, int bins) {
    long[] h = new long[bins];
    for (double v : values) {
      int b = (int) Math.min(bins - 1, Math.max(0, Math.floor(v * bins)));
      h[b]++;
    }
    return h;
  }

  /**
   * The recovery rate of Aharon, Elad and Bruckstein (2006): the share of reference atoms dᵢ for which the closest
   * learned atom d̂ has 1 − |dᵢᵀd̂| < threshold (0.01 in the paper).
   */
  public static double recoveryRate(float[] reference, int mRef, float[] learned, int mLearned, int d,
      double threshold) {
    float[] C = new float[mRef * mLearned];
    Blas.sgemm("T", "N", mRef, mLearned, d, 1f, reference, 0, d, learned, 0, d, 0f, C, 0, mRef);
    int recovered = 0;
    for (int i = 0; i < mRef; i++) {
      double best = 0;
      for (int j = 0; j < mLearned; j++) {
        best = Math.max(best, Math.abs(C[j * mRef + i]));
      }
      if (1 - best < threshold) {
        recovered++;
      }
    }
    return (double) recovered / mRef;
  }
}
