package dbksvd.encode;

import dbksvd.linalg.Blas;

/**
 * A dictionary D (d × m, column-major, unit-norm atoms) with its Gram matrix G = DᵀD (m × m), the two things every
 * encoder needs. Immutable by convention: an update builds a new one.
 *
 * <p>G is not part of the serialised form: it is computed from D where it is first needed, once per JVM — on a
 * Spark executor, by the first task that encodes with the broadcast dictionary, and shared by the others (the
 * broadcast value is one object per JVM). So G is never broadcast (only D is: m·d floats instead of m·d + m²), and
 * one copy lives in each JVM.
 */
public final class Dictionary implements java.io.Serializable {
  private static final long serialVersionUID = 2L;
  /** The largest m whose G fits in one Java array (m² ≤ 2^31 − 1). */
  public static final int MAX_ATOMS = 46340;
  public final int d;
  public final int m;
  public final float[] D;
  private transient volatile float[] G;

  public Dictionary(float[] D, int d, int m) {
    if ((long) d * m != D.length) {
      throw new IllegalArgumentException("D has " + D.length + " floats, expected d*m = " + d + "*" + m);
    }
    if (m > MAX_ATOMS) {
      throw new IllegalArgumentException("m = " + m + " atoms: G = DᵀD would have " + (long) m * m
          + " entries, over the 2^31 − 1 of one Java array; at most " + MAX_ATOMS + " atoms");
    }
    this.d = d;
    this.m = m;
    this.D = D;
  }

  /** With G known already (DᵀD of this D). */
  public Dictionary(float[] D, int d, int m, float[] G) {
    this(D, d, m);
    if (G.length != (long) m * m) {
      throw new IllegalArgumentException("G has " + G.length + " floats, expected m*m = " + m * m);
    }
    this.G = G;
  }

  /** G = DᵀD, m × m, computed on first use in this JVM (on all its cores). */
  public float[] G() {
    float[] g = G;
    if (g == null) {
      synchronized (this) {
        g = G;
        if (g == null) {
          g = Blas.gram(D, d, m);
          G = g;
        }
      }
    }
    return g;
  }

  /**
   * Forgets G (computed again if asked for): the fit drops the coded dictionary's G before the updated one's is
   * formed, so that one G at a time lives in a JVM.
   */
  public void dropGram() {
    G = null;
  }

  /** Copy of atom j. */
  public float[] atom(int j) {
    float[] a = new float[d];
    System.arraycopy(D, j * d, a, 0, d);
    return a;
  }
}
