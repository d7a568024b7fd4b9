package dbksvd;

import dbksvd.encode.SparseCodes;

import java.util.SplittableRandom;

/** Plain double-precision reference arithmetic for the tests: nothing here calls the code under test. */
public final class TestMath {
  private TestMath() {}

  public static double gaussian(SplittableRandom rng) {
    double u1 = rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** d × m column-major Gaussian matrix with unit-norm columns (normalised in double). */
  public static float[] randomUnitDictionary(int d, int m, SplittableRandom rng) {
    float[] D = gaussianMatrix(d, m, rng);
    for (int j = 0; j < m; j++) {
      double n = 0;
      for (int i = 0; i < d; i++) {
        n += (double) D[j * d + i] * D[j * d + i];
      }
      n = Math.sqrt(n);
      for (int i = 0; i < d; i++) {
        D[j * d + i] = (float) (D[j * d + i] / n);
      }
    }
    return D;
  }

  public static float[] gaussianMatrix(int rows, int cols, SplittableRandom rng) {
    float[] a = new float[rows * cols];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) gaussian(rng);
    }
    return a;
  }

  public static double dot(int n, float[] x, int offX, float[] y, int offY) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += (double) x[offX + i] * y[offY + i];
    }
    return s;
  }

  public static double sqNorm(int n, float[] x, int off) {
    return dot(n, x, off, x, off);
  }

  public static double sqNorm(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v * v;
    }
    return s;
  }

  /** Column s of a d × n float matrix, in double. */
  public static double[] column(float[] A, int d, int s) {
    double[] c = new double[d];
    for (int i = 0; i < d; i++) {
      c[i] = A[s * d + i];
    }
    return c;
  }

  /** y_s − D·x_s for sample s of Y, with x_s read from the codes (all atoms, any group). */
  public static double[] residual(float[] D, int d, float[] Y, int s, SparseCodes codes) {
    double[] r = column(Y, d, s);
    int base = s * codes.capacity;
    for (int t = 0; t < codes.count[s]; t++) {
      int j = codes.atom[base + t];
      double a = codes.value[base + t];
      for (int i = 0; i < d; i++) {
        r[i] -= a * D[j * d + i];
      }
    }
    return r;
  }

  /** Solves the symmetric positive definite system A x = b (A n × n row-major, copied) by Cholesky. */
  public static double[] solveSpd(double[] A, double[] b, int n) {
    double[] L = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double s = A[i * n + j];
        for (int k = 0; k < j; k++) {
          s -= L[i * n + k] * L[j * n + k];
        }
        if (i == j) {
          if (!(s > 0)) {
            throw new IllegalArgumentException("matrix not positive definite");
          }
          L[i * n + i] = Math.sqrt(s);
        } else {
          L[i * n + j] = s / L[j * n + j];
        }
      }
    }
    double[] z = new double[n];
    for (int i = 0; i < n; i++) {
      double s = b[i];
      for (int k = 0; k < i; k++) {
        s -= L[i * n + k] * z[k];
      }
      z[i] = s / L[i * n + i];
    }
    double[] x = new double[n];
    for (int i = n - 1; i >= 0; i--) {
      double s = z[i];
      for (int k = i + 1; k < n; k++) {
        s -= L[k * n + i] * x[k];
      }
      x[i] = s / L[i * n + i];
    }
    return x;
  }

  /** The thin SVD of a rows × cols column-major matrix, by one-sided (Hestenes) Jacobi rotations in double. */
  public record Svd(double[] sigma, double[][] u, double[][] v) {}

  /**
   * One-sided Jacobi SVD. Works on the columns of A when rows ≥ cols and on those of Aᵀ otherwise. Singular values
   * are returned in decreasing order; u[i] and v[i] are the i-th left/right singular vectors (u[i] is zero when
   * σᵢ = 0).
   */
  public static Svd svd(float[] A, int rows, int cols) {
    boolean transpose = rows < cols;
    int r = transpose ? cols : rows; // length of the columns being orthogonalised
    int c = transpose ? rows : cols; // their number
    double[][] W = new double[c][r];
    for (int j = 0; j < c; j++) {
      for (int i = 0; i < r; i++) {
        W[j][i] = transpose ? A[i * rows + j] : A[j * rows + i];
      }
    }
    double[][] V = new double[c][c];
    for (int j = 0; j < c; j++) {
      V[j][j] = 1;
    }
    for (int sweep = 0; sweep < 60; sweep++) {
      double off = 0;
      for (int p = 0; p < c; p++) {
        for (int q = p + 1; q < c; q++) {
          double alpha = 0, beta = 0, gamma = 0;
          for (int i = 0; i < r; i++) {
            alpha += W[p][i] * W[p][i];
            beta += W[q][i] * W[q][i];
            gamma += W[p][i] * W[q][i];
          }
          if (gamma == 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) {
            continue;
          }
          off = Math.max(off, Math.abs(gamma) / Math.sqrt(alpha * beta));
          double zeta = (beta - alpha) / (2 * gamma);
          double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
          if (zeta == 0) {
            t = 1;
          }
          double cs = 1 / Math.sqrt(1 + t * t);
          double sn = cs * t;
          for (int i = 0; i < r; i++) {
            double wp = W[p][i], wq = W[q][i];
            W[p][i] = cs * wp - sn * wq;
            W[q][i] = sn * wp + cs * wq;
          }
          for (int i = 0; i < c; i++) {
            double vp = V[p][i], vq = V[q][i];
            V[p][i] = cs * vp - sn * vq;
            V[q][i] = sn * vp + cs * vq;
          }
        }
      }
      if (off < 1e-14) {
        break;
      }
    }
    Integer[] order = new Integer[c];
    double[] norms = new double[c];
    for (int j = 0; j < c; j++) {
      order[j] = j;
      norms[j] = Math.sqrt(sqNorm(W[j]));
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(norms[b], norms[a]));
    double[] sigma = new double[c];
    double[][] left = new double[c][];
    double[][] right = new double[c][];
    for (int k = 0; k < c; k++) {
      int j = order[k];
      sigma[k] = norms[j];
      double[] w = new double[r];
      if (norms[j] > 0) {
        for (int i = 0; i < r; i++) {
          w[i] = W[j][i] / norms[j];
        }
      }
      // W = A V (columns of A, or of Aᵀ): the normalised columns of W are the singular vectors on W's side
      if (transpose) {
        left[k] = V[j].clone();
        right[k] = w;
      } else {
        left[k] = w;
        right[k] = V[j].clone();
      }
    }
    return new Svd(sigma, left, right);
  }
}
