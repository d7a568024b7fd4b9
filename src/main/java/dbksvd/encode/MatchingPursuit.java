package dbksvd.encode;

import dbksvd.linalg.Simd;

/**
 * Matching pursuit on precomputed correlations (the DB-KSVD encoder). Per sample, up to k steps of
 * j = argmax|p|, a = p[j], x[j] += a, p −= a·G[:, j]; the residual's squared norm follows ‖r‖² −= a²
 * (exact for unit-norm atoms), so the early stop at ‖r‖ ≤ rtol·‖y‖ costs no vector work. One pass over p per step:
 * the update of p also finds the next step's argmax ({@link Simd#subtractScaledArgmaxAbs}, vectorised, the same
 * bits as the scalar loops), and nothing is allocated.
 *
 * @param k largest number of steps (an atom picked twice accumulates, so at most k distinct atoms)
 * @param rtol relative residual tolerance, 0 for exactly k steps
 */
public record MatchingPursuit(int k, double rtol) implements Encoder {
  public MatchingPursuit {
    validate(k, rtol);
  }

  static void validate(int k, double rtol) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    if (!(rtol >= 0 && rtol < 1)) {
      throw new IllegalArgumentException("rtol must be in [0, 1), got " + rtol);
    }
  }

  @Override
  public String name() {
    return "mp";
  }

  @Override
  public Encoder withK(int newK) {
    return new MatchingPursuit(newK, rtol);
  }

  @Override
  public Object newScratch(int mAtoms) {
    return null;
  }

  @Override
  public double encode(Dictionary dict, int atomOffset, int mAtoms, float[] p, int pOff, double ySqNorm,
      SparseCodes codes, int s, Object scratch) {
    final float[] G = dict.G;
    final int m = dict.m;
    double r2 = ySqNorm;
    final double stop = rtol * rtol * ySqNorm;
    int j = -1; // the next atom, found by the previous step's update pass
    for (int step = 0; step < k; step++) {
      if (r2 <= stop) {
        break;
      }
      if (j < 0) {
        j = argmaxAbs(p, pOff, mAtoms);
      }
      float a = p[pOff + j];
      if (a == 0f) {
        break;
      }
      codes.accumulate(s, atomOffset + j, a);
      // p -= a * G[range, atomOffset + j], then p[j] = 0 (exact: the residual is orthogonal to the atom just used),
      // and the argmax for the next step in the same pass
      int gOff = (atomOffset + j) * m + atomOffset;
      j = Math.max(Simd.subtractScaledArgmaxAbs(p, pOff, mAtoms, a, G, gOff, j), 0);
      r2 -= (double) a * a;
    }
    return Math.max(r2, 0);
  }

  /** Index (relative to off) of the entry of largest magnitude; the first one on ties (0 if all are NaN). */
  static int argmaxAbs(float[] p, int off, int len) {
    return Math.max(Simd.argmaxAbs(p, off, len, -1f), 0);
  }
}
