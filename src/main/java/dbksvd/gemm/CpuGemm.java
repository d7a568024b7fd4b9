package dbksvd.gemm;

import dbksvd.linalg.Blas;

/** The CPU backend: native OpenBLAS through netlib's JNI layer (or its pure-Java fallback), see {@link Blas}. */
public final class CpuGemm implements Gemm {
  public static final CpuGemm INSTANCE = new CpuGemm();

  private CpuGemm() {}

  @Override
  public String name() {
    return "cpu (" + Blas.implementation() + ")";
  }

  @Override
  public boolean gpu() {
    return false;
  }

  @Override
  public void correlations(float[] D, int d, int atomOffset, int mAtoms, float[] Y, int sampleOffset, int n,
      float[] P) {
    Blas.correlations(D, d, atomOffset, mAtoms, Y, sampleOffset, n, P);
  }

  @Override
  public float[] gram(float[] D, int d, int m) {
    return Blas.gram(D, d, m);
  }
}
