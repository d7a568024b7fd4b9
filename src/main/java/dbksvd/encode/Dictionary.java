package dbksvd.encode;

import dbksvd.linalg.Blas;

/**
 * A dictionary D (d × m, column-major, unit-norm atoms) with its Gram matrix G = DᵀD (m × m), the two things
 * every encoder needs. Immutable by convention: an update builds a new one.
 */
public final class Dictionary implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  public final int d;
  public final int m;
  public final float[] D;
  public final float[] G;

  public Dictionary(float[] D, int d, int m) {
    this(D, d, m, Blas.gram(D, d, m));
  }

  public Dictionary(float[] D, int d, int m, float[] G) {
    if (D.length != d * m) {
      throw new IllegalArgumentException("D has " + D.length + " floats, expected d*m = " + d + "*" + m);
    }
    if (G.length != m * m) {
      throw new IllegalArgumentException("G has " + G.length + " floats, expected m*m = " + m * m);
    }
    this.d = d;
    this.m = m;
    this.D = D;
    this.G = G;
  }

  /** Copy of atom j. */
  public float[] atom(int j) {
    float[] a = new float[d];
    System.arraycopy(D, j * d, a, 0, d);
    return a;
  }
}
