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
    final float[] G = dict.G();
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

  /**
   * Two samples in step: each step of each sample is the step {@link #encode} takes, but the two p updates share one
   * pass ({@link Simd#subtractScaledArgmaxAbs2}), so the two G columns stream from memory at once. When one sample
   * stops, the other goes on alone.
   */
  @Override
  public void encodePair(Dictionary dict, int atomOffset, int mAtoms, float[] p, int p1Off, double y1SqNorm, int s1,
      int p2Off, double y2SqNorm, int s2, SparseCodes codes, Object scratch) {
    final float[] G = dict.G();
    final int m = dict.m;
    double r1 = y1SqNorm, r2 = y2SqNorm;
    final double stop1 = rtol * rtol * y1SqNorm, stop2 = rtol * rtol * y2SqNorm;
    int j1 = -1, j2 = -1;
    int step = 0;
    for (; step < k; step++) {
      if (r1 <= stop1 || r2 <= stop2) {
        break;
      }
      if (j1 < 0) {
        j1 = argmaxAbs(p, p1Off, mAtoms);
      }
      if (j2 < 0) {
        j2 = argmaxAbs(p, p2Off, mAtoms);
      }
      float a1 = p[p1Off + j1], a2 = p[p2Off + j2];
      if (a1 == 0f || a2 == 0f) {
        break;
      }
      codes.accumulate(s1, atomOffset + j1, a1);
      codes.accumulate(s2, atomOffset + j2, a2);
      long next = Simd.subtractScaledArgmaxAbs2(p, p1Off, p2Off, mAtoms, a1, a2, G, (atomOffset + j1) * m + atomOffset,
          (atomOffset + j2) * m + atomOffset, j1, j2);
      j1 = Math.max((int) (next >> 32), 0);
      j2 = Math.max((int) next, 0);
      r1 -= (double) a1 * a1;
      r2 -= (double) a2 * a2;
    }
    // the rest of either sample alone, from where it stands (its next atom already found when j ≥ 0)
    finish(G, m, atomOffset, mAtoms, p, p1Off, r1, stop1, j1, step, codes, s1);
    finish(G, m, atomOffset, mAtoms, p, p2Off, r2, stop2, j2, step, codes, s2);
  }

  /** Steps [from, k) of {@link #encode} for a sample with residual norm² r2 and next atom j (-1: not yet found). */
  private void finish(float[] G, int m, int atomOffset, int mAtoms, float[] p, int pOff, double r2, double stop, int j,
      int from, SparseCodes codes, int s) {
    for (int step = from; step < k; step++) {
      if (r2 <= stop) {
        return;
      }
      if (j < 0) {
        j = argmaxAbs(p, pOff, mAtoms);
      }
      float a = p[pOff + j];
      if (a == 0f) {
        return;
      }
      codes.accumulate(s, atomOffset + j, a);
      int gOff = (atomOffset + j) * m + atomOffset;
      j = Math.max(Simd.subtractScaledArgmaxAbs(p, pOff, mAtoms, a, G, gOff, j), 0);
      r2 -= (double) a * a;
    }
  }

  /** Index (relative to off) of the entry of largest magnitude; the first one on ties (0 if all are NaN). */
  static int argmaxAbs(float[] p, int off, int len) {
    return Math.max(Simd.argmaxAbs(p, off, len, -1f), 0);
  }
}
