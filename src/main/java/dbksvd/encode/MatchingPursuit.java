package dbksvd.encode;

/**
 * Matching pursuit on precomputed correlations (the DB-KSVD encoder). Per sample, up to k steps of
 * j = argmax|p|, a = p[j], x[j] += a, p −= a·G[:, j]; the residual's squared norm follows ‖r‖² −= a²
 * (exact for unit-norm atoms), so the early stop at ‖r‖ ≤ rtol·‖y‖ costs no vector work.
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
    for (int step = 0; step < k; step++) {
      if (r2 <= stop) {
        break;
      }
      int j = argmaxAbs(p, pOff, mAtoms);
      float a = p[pOff + j];
      if (a == 0f) {
        break;
      }
      codes.accumulate(s, atomOffset + j, a);
      // p -= a * G[range, atomOffset + j]
      int gOff = (atomOffset + j) * m + atomOffset;
      for (int i = 0; i < mAtoms; i++) {
        p[pOff + i] -= a * G[gOff + i];
      }
      p[pOff + j] = 0f; // exact: the residual is orthogonal to the atom just used
      r2 -= (double) a * a;
    }
    return Math.max(r2, 0);
  }

  /** Index (relative to off) of the entry of largest magnitude; the first one on ties. */
  static int argmaxAbs(float[] p, int off, int len) {
    int best = 0;
    float bestAbs = -1f;
    for (int i = 0; i < len; i++) {
      float v = Math.abs(p[off + i]);
      if (v > bestAbs) {
        bestAbs = v;
        best = i;
      }
    }
    return best;
  }
}
