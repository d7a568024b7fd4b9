package dbksvd.synth;

import dbksvd.linalg.Blas;
import dbksvd.util.Seeds;

import java.util.SplittableRandom;

/**
 * Synthetic data with a planted dictionary, as in the K-SVD paper's experiment: D (d × m) with unit-norm Gaussian
 * atoms; each sample y = D·x (+ noise) where x has k non-zeros on a random support with N(0, 1) values; white
 * Gaussian noise scaled so that 10·log10(‖Dx‖²/‖noise‖²) = snrDb per sample (no noise when snrDb is infinite).
 * Row r is generated from its own stream (seed, r), so any slice of rows can be produced alone and in parallel.
 */
public final class PlantedData {
  public final int d;
  public final int m;
  public final int k;
  public final double snrDb;
  public final long seed;
  /** The planted dictionary, d × m column-major. */
  public final float[] D;

  public PlantedData(int d, int m, int k, double snrDb, long seed) {
    if (d < 1 || m < 1 || k < 1 || k > m) {
      throw new IllegalArgumentException("need d ≥ 1, m ≥ 1, 1 ≤ k ≤ m; got d=" + d + " m=" + m + " k=" + k);
    }
    this.d = d;
    this.m = m;
    this.k = k;
    this.snrDb = snrDb;
    this.seed = seed;
    this.D = new float[d * m];
    SplittableRandom rng = Seeds.rng(seed, Seeds.GENERATE, -1);
    for (int i = 0; i < D.length; i++) {
      D[i] = (float) gaussian(rng);
    }
    Blas.normalizeColumns(D, d, m);
  }

  /**
   * Writes row r into y[off..off+d) and, when support/values are not null, its planted atoms and coefficients
   * (length k).
   */
  public void row(long r, float[] y, int off, int[] support, float[] values) {
    row(r, y, off, support, values, 0);
  }

  /**
   * As {@link #row(long, float[], int, int[], float[])}; with {@code classes} ≥ 2 the row belongs to class
   * {@link #label}(r, classes) = c and its support is atom c (the class's marker, with a positive coefficient) plus
   * k − 1 atoms drawn from [classes, m), so atom c appears exactly in the rows of class c. With classes = 0 the row is as without labels.
   */
  public void row(long r, float[] y, int off, int[] support, float[] values, int classes) {
    SplittableRandom rng = Seeds.rng(seed, Seeds.GENERATE, r);
    // random support: k distinct atoms (partial Fisher-Yates over a small rejection set)
    int[] sup = support != null ? support : new int[k];
    int first = 0;
    if (classes > 0) {
      sup[0] = label(r, classes);
      first = 1;
    }
    for (int t = first; t < k; t++) {
      int j;
      boolean dup;
      do {
        j = classes > 0 ? classes + rng.nextInt(m - classes) : rng.nextInt(m);
        dup = false;
        for (int u = 0; u < t; u++) {
          dup |= sup[u] == j;
        }
      } while (dup);
      sup[t] = j;
    }
    java.util.Arrays.fill(y, off, off + d, 0f);
    for (int t = 0; t < k; t++) {
      float a = (float) gaussian(rng);
      if (t == 0 && classes > 0) {
        a = Math.abs(a); // the class marker points one way, as a concept's direction does in real embeddings
      }
      if (values != null) {
        values[t] = a;
      }
      Blas.axpy(d, a, D, sup[t] * d, y, off);
    }
    if (Double.isFinite(snrDb)) {
      double signal = Blas.sqNorm(d, y, off);
      double[] noise = new double[d];
      double nn = 0;
      for (int i = 0; i < d; i++) {
        noise[i] = gaussian(rng);
        nn += noise[i] * noise[i];
      }
      double scale = nn > 0 ? Math.sqrt(signal / nn / Math.pow(10, snrDb / 10)) : 0;
      for (int i = 0; i < d; i++) {
        y[off + i] += (float) (noise[i] * scale);
      }
    }
  }

  /** Row r's class among {@code classes} (uniform, from its own stream, independent of the row's data). */
  public int label(long r, int classes) {
    return (int) Math.floorMod(Seeds.derive(seed, Seeds.GENERATE, -2, r), (long) classes);
  }

  /** Checks that {@code classes} marker atoms leave room for the other k − 1 atoms of a support. */
  public void checkClasses(int classes) {
    if (classes < 2 || classes > m || m - classes < k - 1) {
      throw new IllegalArgumentException("--labels C needs 2 <= C and C + k - 1 <= m (C marker atoms plus k - 1 "
          + "others); got C = " + classes + ", m = " + m + ", k = " + k);
    }
  }

  /** Rows [from, from + n) as a d × n column-major block. */
  public float[] rows(long from, int n) {
    float[] Y = new float[d * n];
    for (int s = 0; s < n; s++) {
      row(from + s, Y, s * d, null, null);
    }
    return Y;
  }

  /** A standard normal draw. */
  public static double gaussian(SplittableRandom rng) {
    // Box-Muller (one value per call keeps every row's stream independent of how many were drawn before)
    double u1 = rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
  }
}
