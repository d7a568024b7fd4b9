package dbksvd.metrics;

import dbksvd.linalg.Blas;

/** Metrics of a dictionary alone, or against a reference dictionary. */
public final class DictionaryMetrics {
  private DictionaryMetrics() {}

  /** Per-atom coherence: maxCoherence[j] = max over i ≠ j of |dᵢᵀdⱼ|, from G = DᵀD (m × m). */
  public static double[] perAtomCoherence(float[] G, int m) {
    return GramFacts.of(G, m, 0, m, 1).coherence();
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
