package dbksvd.gemm;

/**
 * The dense products of an iteration — P = DᵀY for the encoders and G = DᵀD — behind one interface, so that a task
 * can run them on the CPU (OpenBLAS through netlib, {@link CpuGemm}) or on the GPU Spark assigned to it
 * ({@link CudaGemm}, cuBLAS; its JavaCPP classes ship only in builds with the {@code cuda} Maven profile). Layouts as in
 * {@link dbksvd.linalg.Blas}: column-major float[], D is d × m, Y is d × n, P is mAtoms × n, G is m × m.
 *
 * <p>Bits: each backend is deterministic, but the two round differently, so a fit is bit-for-bit reproducible on
 * one backend (for any partitioning on the CPU, see {@link dbksvd.encode.GemmLanes}); CPU and GPU products agree
 * to rounding ({@code GpuGemmTest} holds P = DᵀY to 1e-4 relative).
 */
public interface Gemm {
  /** E.g. {@code "cpu (dev.ludovic.netlib.blas.JNIBLAS)"} or {@code "cuda (GPU 0: NVIDIA H100 80GB HBM3)"}. */
  String name();

  /** True for a GPU backend. */
  boolean gpu();

  /**
   * P(mAtoms × n) = D[:, atomOffset .. atomOffset+mAtoms)ᵀ · Y[:, sampleOffset .. sampleOffset+n). A GPU backend
   * keeps D on the device while calls pass the same D array (one iteration's broadcast).
   */
  void correlations(float[] D, int d, int atomOffset, int mAtoms, float[] Y, int sampleOffset, int n, float[] P);

  /** A product started by {@link #start}: its P is complete once {@link #await} returns. */
  interface Pending {
    void await();
  }

  /**
   * Starts {@link #correlations} and returns at once where the backend can work beside the caller (a GPU: the
   * copies and the SGEMM run while the task's thread codes the previous call's samples); the arrays must stay
   * untouched until {@link Pending#await}. The CPU computes it here, in the caller's thread.
   */
  default Pending start(float[] D, int d, int atomOffset, int mAtoms, float[] Y, int sampleOffset, int n, float[] P) {
    correlations(D, d, atomOffset, mAtoms, Y, sampleOffset, n, P);
    return () -> { };
  }

  /** G = DᵀD (m × m). */
  float[] gram(float[] D, int d, int m);

  /**
   * The SGEMM rate of a GPU backend with its operands already on the device (P = DᵀY at d × m × n, best of three
   * after a warm-up): the roofline a GPU run is measured against.
   *
   * @throws UnsupportedOperationException on the CPU, whose rate {@link dbksvd.spark.Bench} measures with all task
   *     slots at once
   */
  default double deviceSgemmGflops(int d, int m, int n) {
    throw new UnsupportedOperationException(name() + " has no device-resident SGEMM rate");
  }
}
