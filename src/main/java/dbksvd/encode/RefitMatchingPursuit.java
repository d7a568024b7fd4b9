package dbksvd.encode;

import dbksvd.linalg.Simd;

/**
 * Matching pursuit with a least-squares refit on its support: the default encoder of KSVD.jl (its
 * ParallelMatchingPursuit), on precomputed correlations p = D_rangeᵀ·y and G.
 *
 * <p>Selection: up to 4k matching pursuit steps, each j = argmax|p|, a = p[j], x[j] += a, p −= a·G[:, j] (the same
 * kernel, hence the same picks, as {@link MatchingPursuit}), with ‖r‖² −= a² tracked for the early stop at
 * ‖r‖ ≤ rtol·‖y‖. Re-picking an atom accumulates, so the steps may revisit atoms; as soon as a step brings the
 * number of distinct atoms to k + 1, the atom of smallest |x| is dropped and the selection stops, so the support Ω
 * holds exactly k atoms unless the residual reached rtol first (or p ran out: a zero or NaN maximum, or 4k steps on
 * fewer than k + 1 atoms).
 *
 * <p>Refit: x_Ω solves G_ΩΩ·x_Ω = P_Ω, with P_Ω the original correlations d_jᵀy (kept in the scratch before the
 * steps change p), by a Cholesky factorisation of G_ΩΩ in double. When G_ΩΩ is numerically singular (a pivot below
 * {@link #PIVOT_FLOOR}, e.g. two nearly equal atoms in Ω), it is factorised again with {@link #RIDGE} added to its
 * diagonal; if that also fails, or the solution is not finite, Ω keeps its matching pursuit coefficients.
 *
 * <p>The returned ‖r‖² is ‖y‖² − 2·xᵀP_Ω + xᵀG_ΩΩx (clamped at 0) for the final coefficients; callers that need
 * exact residuals ({@link EncodedBlock}) compute Y − DX themselves. Nothing is allocated per sample.
 *
 * @param k largest number of distinct atoms per sample
 * @param rtol relative residual tolerance, 0 to always select k atoms when the data allow
 */
public record RefitMatchingPursuit(int k, double rtol) implements Encoder {
  /** Matching pursuit steps allowed per distinct atom of the budget (KSVD.jl's max_iter = 4·max_nnz). */
  public static final int STEPS_PER_ATOM = 4;
  /** Smallest accepted Cholesky pivot, relative to the largest diagonal entry of G_ΩΩ. */
  public static final double PIVOT_FLOOR = 1e-10;
  /** Ridge added to G_ΩΩ's diagonal (relative to its largest entry) when a pivot falls below the floor. */
  public static final double RIDGE = 1e-6;

  public RefitMatchingPursuit {
    MatchingPursuit.validate(k, rtol);
  }

  @Override
  public String name() {
    return "mp-refit";
  }

  @Override
  public Encoder withK(int newK) {
    return new RefitMatchingPursuit(newK, rtol);
  }

  /** Per-thread work space. */
  static final class Scratch {
    /** The original correlations of the range. */
    final float[] p0;
    /** Distinct atoms picked (relative to the range), in order of first pick, and their accumulated coefficients. */
    final int[] atom;
    final float[] x;
    /** Lower Cholesky factor of G_ΩΩ (row-major k × k), the solution, and its right-hand side. */
    final double[] L;
    final double[] sol;
    final double[] rhs;

    Scratch(int mAtoms, int k) {
      p0 = new float[mAtoms];
      atom = new int[k + 1];
      x = new float[k + 1];
      L = new double[k * k];
      sol = new double[k];
      rhs = new double[k];
    }
  }

  @Override
  public Object newScratch(int mAtoms) {
    return new Scratch(mAtoms, k);
  }

  @Override
  public double encode(Dictionary dict, int atomOffset, int mAtoms, float[] p, int pOff, double ySqNorm,
      SparseCodes codes, int s, Object scratchObj) {
    final Scratch sc = (Scratch) scratchObj;
    final float[] G = dict.G();
    final int m = dict.m;
    final float[] p0 = sc.p0;
    System.arraycopy(p, pOff, p0, 0, mAtoms);
    final int[] atom = sc.atom;
    final float[] x = sc.x;
    int size = select(G, m, atomOffset, mAtoms, p, pOff, ySqNorm, atom, x);
    if (size == 0) {
      return ySqNorm;
    }
    final double[] sol = sc.sol;
    if (!refit(G, m, atomOffset, atom, size, p0, sc.L, sol, sc.rhs, k)) {
      for (int a = 0; a < size; a++) {
        sol[a] = x[a]; // G_ΩΩ singular even with the ridge: the matching pursuit coefficients
      }
    }
    // ‖y − D_Ω x‖² = ‖y‖² − 2 xᵀP_Ω + xᵀ G_ΩΩ x, with the coefficients as stored (float)
    double xp = 0, xgx = 0;
    for (int a = 0; a < size; a++) {
      float c = (float) sol[a];
      codes.accumulate(s, atomOffset + atom[a], c);
      xp += (double) c * p0[atom[a]];
      int row = (atomOffset + atom[a]) * m + atomOffset;
      double gx = 0;
      for (int b = 0; b < size; b++) {
        gx += (double) G[row + atom[b]] * (float) sol[b];
      }
      xgx += c * gx;
    }
    return Math.max(ySqNorm - 2 * xp + xgx, 0);
  }

  /**
   * The matching pursuit steps: fills {@code atom[0..size)} (range-relative, distinct, in order of first pick) and
   * their accumulated coefficients {@code x}, after the drop; returns size ≤ k. Overwrites p.
   */
  int select(float[] G, int m, int atomOffset, int mAtoms, float[] p, int pOff, double ySqNorm, int[] atom,
      float[] x) {
    final double stop = rtol * rtol * ySqNorm;
    final int maxSteps = STEPS_PER_ATOM * k;
    double r2 = ySqNorm;
    int size = 0;
    int j = -1; // the next atom, found by the previous step's update pass
    for (int step = 0; step < maxSteps; step++) {
      if (r2 <= stop) {
        break;
      }
      if (j < 0) {
        j = MatchingPursuit.argmaxAbs(p, pOff, mAtoms);
      }
      float a = p[pOff + j];
      if (a == 0f || a != a) {
        break;
      }
      int slot = 0;
      while (slot < size && atom[slot] != j) {
        slot++;
      }
      if (slot == size) {
        atom[size] = j;
        x[size++] = a;
      } else {
        x[slot] += a;
      }
      if (size > k) {
        return dropSmallest(atom, x, size);
      }
      int gOff = (atomOffset + j) * m + atomOffset;
      j = Math.max(Simd.subtractScaledArgmaxAbs(p, pOff, mAtoms, a, G, gOff, j), 0);
      r2 -= (double) a * a;
    }
    return size;
  }

  /** Removes the entry of smallest |x| (the first on ties), keeping the order of the rest; returns size − 1. */
  static int dropSmallest(int[] atom, float[] x, int size) {
    int min = 0;
    for (int a = 1; a < size; a++) {
      if (Math.abs(x[a]) < Math.abs(x[min])) {
        min = a;
      }
    }
    for (int a = min + 1; a < size; a++) {
      atom[a - 1] = atom[a];
      x[a - 1] = x[a];
    }
    return size - 1;
  }

  /**
   * Solves G_ΩΩ·sol = p0_Ω by Cholesky in double (L row-major with stride {@code stride}); with a ridge when a pivot
   * falls below the floor. Returns false when no finite solution was found.
   */
  static boolean refit(float[] G, int m, int atomOffset, int[] atom, int size, float[] p0, double[] L, double[] sol,
      double[] rhs, int stride) {
    double maxDiag = 0;
    for (int a = 0; a < size; a++) {
      int i = atomOffset + atom[a];
      maxDiag = Math.max(maxDiag, G[i * m + i]);
    }
    if (!(maxDiag > 0)) {
      return false;
    }
    if (!cholesky(G, m, atomOffset, atom, size, L, stride, 0, PIVOT_FLOOR * maxDiag)
        && !cholesky(G, m, atomOffset, atom, size, L, stride, RIDGE * maxDiag, PIVOT_FLOOR * maxDiag)) {
      return false;
    }
    // L w = p0_Ω, then Lᵀ sol = w
    for (int r = 0; r < size; r++) {
      double sum = p0[atom[r]];
      for (int c = 0; c < r; c++) {
        sum -= L[r * stride + c] * rhs[c];
      }
      rhs[r] = sum / L[r * stride + r];
    }
    for (int r = size - 1; r >= 0; r--) {
      double sum = rhs[r];
      for (int c = r + 1; c < size; c++) {
        sum -= L[c * stride + r] * sol[c];
      }
      sol[r] = sum / L[r * stride + r];
    }
    for (int r = 0; r < size; r++) {
      if (!Double.isFinite(sol[r])) {
        return false;
      }
    }
    return true;
  }

  /** L·Lᵀ = G_ΩΩ + ridge·I; false when a pivot is not above floor. */
  private static boolean cholesky(float[] G, int m, int atomOffset, int[] atom, int size, double[] L, int stride,
      double ridge, double floor) {
    for (int r = 0; r < size; r++) {
      int row = (atomOffset + atom[r]) * m + atomOffset;
      for (int c = 0; c <= r; c++) {
        double sum = G[row + atom[c]];
        if (c == r) {
          sum += ridge;
        }
        for (int t = 0; t < c; t++) {
          sum -= L[r * stride + t] * L[c * stride + t];
        }
        if (c < r) {
          L[r * stride + c] = sum / L[c * stride + c];
        } else {
          if (!(sum > floor)) {
            return false;
          }
          L[r * stride + r] = Math.sqrt(sum);
        }
      }
    }
    return true;
  }
}
