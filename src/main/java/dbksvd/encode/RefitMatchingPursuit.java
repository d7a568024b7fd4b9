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
 * fewer than k + 1 atoms). KSVD.jl tests rtol before the count, so when both hold after the same step it keeps k + 1
 * atoms; here the drop comes first and a code never holds more than k (its slots in {@link SparseCodes}).
 *
 * <p>Refit: x_Ω solves G_ΩΩ·x_Ω = P_Ω, with P_Ω the original correlations d_jᵀy (kept in the scratch before the
 * steps change p), by a Cholesky factorisation of G_ΩΩ in double: the normal equations on G, where KSVD.jl solves
 * D_Ω \ y by QR on the atoms (no product with y here). When G_ΩΩ is numerically singular (a squared pivot not above
 * {@link #PIVOT_FLOOR} times its largest diagonal entry, e.g. two nearly equal atoms in Ω), it is factorised again with {@link #RIDGE} added to its
 * diagonal; if that also fails, or the solution is not finite, Ω keeps its matching pursuit coefficients.
 *
 * <p>The returned ‖r‖² is ‖y‖² − 2·xᵀP_Ω + xᵀG_ΩΩx (clamped at 0) for the final coefficients; callers that need
 * exact residuals ({@link EncodedBlock}) compute Y − DX themselves. Nothing is allocated per sample; {@link #encodePair}
 * runs the steps of two samples in one pass over their correlations, as {@link MatchingPursuit} does.
 *
 * @param k largest number of distinct atoms per sample
 * @param rtol relative residual tolerance, 0 to always select k atoms when the data allow
 */
public record RefitMatchingPursuit(int k, double rtol) implements Encoder {
  /** Matching pursuit steps allowed per distinct atom of the budget (KSVD.jl's max_iter = 4·max_nnz). */
  public static final int STEPS_PER_ATOM = 4;
  /** Smallest accepted squared Cholesky pivot, relative to the largest diagonal entry of G_ΩΩ. */
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

  /** Per-thread work space (for two samples: {@link #encodePair} codes two at once). */
  static final class Scratch {
    /** The original correlations of the range: sample one at 0, sample two at mAtoms. */
    final float[] p0;
    /** Distinct atoms picked (relative to the range), in order of first pick, and their accumulated coefficients. */
    final int[] atom1, atom2;
    final float[] x1, x2;
    /** Lower Cholesky factor of G_ΩΩ (row-major k × k), the solution, and its right-hand side. */
    final double[] L;
    final double[] sol;
    final double[] rhs;

    Scratch(int mAtoms, int k) {
      p0 = new float[2 * mAtoms];
      atom1 = new int[k + 1];
      atom2 = new int[k + 1];
      x1 = new float[k + 1];
      x2 = new float[k + 1];
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
    System.arraycopy(p, pOff, sc.p0, 0, mAtoms);
    int size = select(G, dict.m, atomOffset, mAtoms, p, pOff, ySqNorm, rtol * rtol * ySqNorm, -1, 0, 0, sc.atom1,
        sc.x1);
    return refitAndWrite(G, dict.m, atomOffset, sc.p0, 0, ySqNorm, sc.atom1, sc.x1, size, sc, codes, s);
  }

  /**
   * Two samples in step: the matching pursuit steps of both share one pass over p per step
   * ({@link Simd#subtractScaledArgmaxAbs2}, the same bits as two single passes) for as long as both take a plain step;
   * from the first step where one of them stops or drops an atom, each finishes alone. The same codes, bit for bit,
   * as two calls of {@link #encode}.
   */
  @Override
  public void encodePair(Dictionary dict, int atomOffset, int mAtoms, float[] p, int p1Off, double y1SqNorm, int s1,
      int p2Off, double y2SqNorm, int s2, SparseCodes codes, Object scratchObj) {
    final Scratch sc = (Scratch) scratchObj;
    final float[] G = dict.G();
    final int m = dict.m;
    System.arraycopy(p, p1Off, sc.p0, 0, mAtoms);
    System.arraycopy(p, p2Off, sc.p0, mAtoms, mAtoms);
    final int[] atom1 = sc.atom1, atom2 = sc.atom2;
    final float[] x1 = sc.x1, x2 = sc.x2;
    final double stop1 = rtol * rtol * y1SqNorm, stop2 = rtol * rtol * y2SqNorm;
    final int maxSteps = STEPS_PER_ATOM * k;
    double r1 = y1SqNorm, r2 = y2SqNorm;
    int j1 = -1, j2 = -1, size1 = 0, size2 = 0;
    int step = 0;
    for (; step < maxSteps; step++) {
      if (r1 <= stop1 || r2 <= stop2) {
        break;
      }
      if (j1 < 0) {
        j1 = MatchingPursuit.argmaxAbs(p, p1Off, mAtoms);
      }
      if (j2 < 0) {
        j2 = MatchingPursuit.argmaxAbs(p, p2Off, mAtoms);
      }
      float a1 = p[p1Off + j1], a2 = p[p2Off + j2];
      if (a1 == 0f || a1 != a1 || a2 == 0f || a2 != a2) {
        break;
      }
      int slot1 = slotOf(atom1, size1, j1), slot2 = slotOf(atom2, size2, j2);
      if ((slot1 == size1 && size1 == k) || (slot2 == size2 && size2 == k)) {
        break; // one of them drops an atom and stops at this step: each goes on alone
      }
      size1 = add(atom1, x1, size1, slot1, j1, a1);
      size2 = add(atom2, x2, size2, slot2, j2, a2);
      long next = Simd.subtractScaledArgmaxAbs2(p, p1Off, p2Off, mAtoms, a1, a2, G, (atomOffset + j1) * m + atomOffset,
          (atomOffset + j2) * m + atomOffset, j1, j2);
      j1 = Math.max((int) (next >> 32), 0);
      j2 = Math.max((int) next, 0);
      r1 -= (double) a1 * a1;
      r2 -= (double) a2 * a2;
    }
    size1 = select(G, m, atomOffset, mAtoms, p, p1Off, r1, stop1, j1, step, size1, atom1, x1);
    size2 = select(G, m, atomOffset, mAtoms, p, p2Off, r2, stop2, j2, step, size2, atom2, x2);
    refitAndWrite(G, m, atomOffset, sc.p0, 0, y1SqNorm, atom1, x1, size1, sc, codes, s1);
    refitAndWrite(G, m, atomOffset, sc.p0, mAtoms, y2SqNorm, atom2, x2, size2, sc, codes, s2);
  }

  /**
   * The matching pursuit steps [from, 4k) of one sample whose tracked ‖r‖² is r2, next atom j (−1: not yet found) and
   * first {@code size} distinct atoms in {@code atom}, {@code x}; returns the final size ≤ k, after the drop.
   * Overwrites p.
   */
  int select(float[] G, int m, int atomOffset, int mAtoms, float[] p, int pOff, double r2, double stop, int j,
      int from, int size, int[] atom, float[] x) {
    final int maxSteps = STEPS_PER_ATOM * k;
    for (int step = from; step < maxSteps; step++) {
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
      size = add(atom, x, size, slotOf(atom, size, j), j, a);
      if (size > k) {
        return dropSmallest(atom, x, size);
      }
      int gOff = (atomOffset + j) * m + atomOffset;
      j = Math.max(Simd.subtractScaledArgmaxAbs(p, pOff, mAtoms, a, G, gOff, j), 0);
      r2 -= (double) a * a;
    }
    return size;
  }

  /** The slot of atom j among the first size, size when new. */
  private static int slotOf(int[] atom, int size, int j) {
    int slot = 0;
    while (slot < size && atom[slot] != j) {
      slot++;
    }
    return slot;
  }

  /** x[slot] += a, or a new entry (j, a) when slot == size; returns the new size. */
  private static int add(int[] atom, float[] x, int size, int slot, int j, float a) {
    if (slot == size) {
      atom[size] = j;
      x[size] = a;
      return size + 1;
    }
    x[slot] += a;
    return size;
  }

  /**
   * The least-squares refit of the support and the codes of sample s; returns ‖y‖² − 2xᵀP_Ω + xᵀG_ΩΩx for the
   * coefficients as stored.
   */
  private double refitAndWrite(float[] G, int m, int atomOffset, float[] p0, int p0Off, double ySqNorm, int[] atom,
      float[] x, int size, Scratch sc, SparseCodes codes, int s) {
    if (size == 0) {
      return ySqNorm;
    }
    final double[] sol = sc.sol;
    if (!refit(G, m, atomOffset, atom, size, p0, p0Off, sc.L, sol, sc.rhs, k)) {
      for (int a = 0; a < size; a++) {
        sol[a] = x[a]; // G_ΩΩ singular even with the ridge: the matching pursuit coefficients
      }
    }
    double xp = 0, xgx = 0;
    for (int a = 0; a < size; a++) {
      float c = (float) sol[a];
      codes.accumulate(s, atomOffset + atom[a], c);
      xp += (double) c * p0[p0Off + atom[a]];
      int row = (atomOffset + atom[a]) * m + atomOffset;
      double gx = 0;
      for (int b = 0; b < size; b++) {
        gx += (double) G[row + atom[b]] * (float) sol[b];
      }
      xgx += c * gx;
    }
    return Math.max(ySqNorm - 2 * xp + xgx, 0);
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
  static boolean refit(float[] G, int m, int atomOffset, int[] atom, int size, float[] p0, int p0Off, double[] L,
      double[] sol, double[] rhs, int stride) {
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
      double sum = p0[p0Off + atom[r]];
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
