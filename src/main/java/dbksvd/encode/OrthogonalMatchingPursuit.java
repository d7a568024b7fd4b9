package dbksvd.encode;

import dbksvd.linalg.Simd;

/**
 * Batch-OMP (Rubinstein, Zibulevsky, Elad 2008): orthogonal matching pursuit from the correlations α⁰ = Dᵀy and
 * the Gram matrix G, with a Cholesky factor of G_II grown by one row per step. Each step costs |I| columns of G
 * (an m-vector update per selected atom); D and y are never touched. The residual norm is tracked through
 * ε_t = ε_{t−1} − δ_t + δ_{t−1}, δ_t = γᵀ(G_II γ).
 *
 * @param k largest number of atoms
 * @param rtol relative residual tolerance, 0 for exactly k atoms (or until G_II is singular)
 */
public record OrthogonalMatchingPursuit(int k, double rtol) implements Encoder {
  public OrthogonalMatchingPursuit {
    MatchingPursuit.validate(k, rtol);
  }

  @Override
  public String name() {
    return "omp";
  }

  @Override
  public Encoder withK(int newK) {
    return new OrthogonalMatchingPursuit(newK, rtol);
  }

  /** Per-thread work space. */
  static final class Scratch {
    final float[] alpha0;
    final int[] support;
    final double[] L;
    final double[] gamma;
    final double[] w;
    /** Offsets in G of the support's columns, and γ in float, for the fused update pass. */
    final int[] colOff;
    final float[] gammaF;

    Scratch(int mAtoms, int k) {
      alpha0 = new float[mAtoms];
      support = new int[k];
      L = new double[k * k];
      gamma = new double[k];
      w = new double[k];
      colOff = new int[k];
      gammaF = new float[k];
    }
  }

  @Override
  public Object newScratch(int mAtoms) {
    return new Scratch(mAtoms, k);
  }

  @Override
  public double encode(Dictionary dict, int atomOffset, int mAtoms, float[] alpha, int pOff, double ySqNorm,
      SparseCodes codes, int s, Object scratchObj) {
    Scratch sc = (Scratch) scratchObj;
    final float[] G = dict.G();
    final int m = dict.m;
    final float[] alpha0 = sc.alpha0;
    System.arraycopy(alpha, pOff, alpha0, 0, mAtoms);
    final int[] I = sc.support;
    final double[] L = sc.L; // lower triangular, row-major k × k
    final double[] gamma = sc.gamma;
    final double[] w = sc.w;
    final double stop = rtol * rtol * ySqNorm;
    double eps = ySqNorm;
    double deltaPrev = 0;
    int size = 0;
    int maxAtoms = Math.min(k, mAtoms);
    final int[] colOff = sc.colOff;
    final float[] gammaF = sc.gammaF;
    int next = Simd.argmaxAbs(alpha, pOff, mAtoms, 0f); // largest |α|, found by the previous update pass
    while (size < maxAtoms && eps > stop) {
      // next atom: largest |α| outside the support (α on the support is ~0 in exact arithmetic, so the argmax of
      // all of α is almost always outside it; when not, search again without the support)
      int j = next;
      if (j >= 0 && contains(I, size, j)) {
        j = argmaxOutside(alpha, pOff, mAtoms, I, size);
      }
      if (j < 0) {
        break;
      }
      int gj = (atomOffset + j) * m + atomOffset; // column j of G restricted to the range
      if (size == 0) {
        L[0] = 1.0;
      } else {
        // solve L w = G[I, j]
        for (int r = 0; r < size; r++) {
          double sum = G[gj + I[r]];
          for (int c = 0; c < r; c++) {
            sum -= L[r * k + c] * w[c];
          }
          w[r] = sum / L[r * k + r];
        }
        double diag = 1.0;
        for (int r = 0; r < size; r++) {
          diag -= w[r] * w[r];
        }
        if (diag <= 1e-10) {
          break; // the atom lies in the span of the support: nothing more to gain
        }
        for (int c = 0; c < size; c++) {
          L[size * k + c] = w[c];
        }
        L[size * k + size] = Math.sqrt(diag);
      }
      colOff[size] = (atomOffset + j) * m + atomOffset;
      I[size++] = j;
      // γ = (L Lᵀ)⁻¹ α⁰_I
      for (int r = 0; r < size; r++) {
        double sum = alpha0[I[r]];
        for (int c = 0; c < r; c++) {
          sum -= L[r * k + c] * w[c];
        }
        w[r] = sum / L[r * k + r];
      }
      for (int r = size - 1; r >= 0; r--) {
        double sum = w[r];
        for (int c = r + 1; c < size; c++) {
          sum -= L[c * k + r] * gamma[c];
        }
        gamma[r] = sum / L[r * k + r];
      }
      // α = α⁰ − G[:, I] γ in one pass over α (the same products and differences, in the same order, as one pass
      // per column), with the next argmax; δ = γᵀ β_I
      for (int r = 0; r < size; r++) {
        gammaF[r] = (float) gamma[r];
      }
      next = Simd.subtractColumnsArgmaxAbs(alpha, pOff, alpha0, mAtoms, G, colOff, gammaF, size);
      double delta = 0;
      for (int r = 0; r < size; r++) {
        delta += gamma[r] * (alpha0[I[r]] - alpha[pOff + I[r]]);
      }
      eps = eps - delta + deltaPrev;
      deltaPrev = delta;
    }
    for (int r = 0; r < size; r++) {
      codes.accumulate(s, atomOffset + I[r], (float) gamma[r]);
    }
    return Math.max(eps, 0);
  }

  /** The original selection rule: the first largest |α_i| > 0 with i outside the support, -1 if none. */
  private static int argmaxOutside(float[] alpha, int pOff, int mAtoms, int[] I, int size) {
    int j = -1;
    float best = 0f;
    for (int i = 0; i < mAtoms; i++) {
      float v = Math.abs(alpha[pOff + i]);
      if (v > best && !contains(I, size, i)) {
        best = v;
        j = i;
      }
    }
    return j;
  }

  private static boolean contains(int[] a, int len, int v) {
    for (int i = 0; i < len; i++) {
      if (a[i] == v) {
        return true;
      }
    }
    return false;
  }
}
