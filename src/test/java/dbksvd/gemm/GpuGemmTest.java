package dbksvd.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.linalg.Blas;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend against the CPU on GPU 0. Tagged {@code gpu}: the default build excludes it, {@code mvn -Pcuda
 * verify} runs it, and it skips itself where no NVIDIA driver is loaded. Prints the device-resident cuBLAS SGEMM
 * rate at the paper's shape.
 */
@Tag("gpu")
class GpuGemmTest {
  static Gemm gpu;

  @BeforeAll
  static void openGpu0() {
    Assumptions.assumeTrue(BackendsTest.nvidiaDriver(), "no NVIDIA driver on this machine");
    gpu = Backends.choose("cuda", new String[] {"0"}).gemm();
    assertTrue(gpu.gpu(), gpu.name());
    System.out.println("GPU backend: " + gpu.name());
  }

  static float[] gaussian(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    return x;
  }

  /** ‖a − b‖ / ‖b‖. */
  static double relative(float[] a, float[] b) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < a.length; i++) {
      double e = (double) a[i] - b[i];
      num += e * e;
      den += (double) b[i] * b[i];
    }
    return Math.sqrt(num / den);
  }

  /** P = DᵀY: several blocks of samples (the last one partial), an atom range, offsets into Y; 1e-4 relative. */
  @Test
  void correlationsAgreeWithCpu() {
    int d = 384;
    int m = 1000;
    int n = 2 * CudaGemm.BLOCK + 1234;
    float[] D = gaussian(d * m, 1);
    float[] Y = gaussian(d * (n + 5), 2);
    for (int[] range : new int[][] {{0, m}, {300, 512}}) {
      int a0 = range[0];
      int mg = range[1];
      float[] want = new float[mg * n];
      float[] got = new float[mg * n];
      Blas.correlations(D, d, a0, mg, Y, 5, n, want);
      gpu.correlations(D, d, a0, mg, Y, 5, n, got);
      double rel = relative(got, want);
      System.out.printf("DᵀY atoms [%d, %d) n=%d: relative difference GPU vs CPU %.2e%n", a0, a0 + mg, n, rel);
      assertTrue(rel <= 1e-4, "relative difference " + rel);
      // column by column too: no block or column lost
      for (int q = 0; q < n; q += 997) {
        float[] gw = java.util.Arrays.copyOfRange(want, q * mg, (q + 1) * mg);
        float[] gg = java.util.Arrays.copyOfRange(got, q * mg, (q + 1) * mg);
        assertTrue(relative(gg, gw) <= 1e-4, "column " + q);
      }
    }
    // two products started at once (the encoder's look-ahead) both arrive whole
    float[] p1 = new float[m * 700];
    float[] p2 = new float[m * 900];
    Gemm.Pending f1 = gpu.start(D, d, 0, m, Y, 0, 700, p1);
    Gemm.Pending f2 = gpu.start(D, d, 0, m, Y, 700, 900, p2);
    f2.await();
    f1.await();
    float[] w1 = new float[m * 700];
    float[] w2 = new float[m * 900];
    Blas.correlations(D, d, 0, m, Y, 0, 700, w1);
    Blas.correlations(D, d, 0, m, Y, 700, 900, w2);
    assertTrue(relative(p1, w1) <= 1e-4 && relative(p2, w2) <= 1e-4, "started products");
    // a new D array is uploaded again (D stays resident only while the same array comes back)
    float[] D2 = gaussian(d * m, 3);
    float[] want = new float[m * 100];
    float[] got = new float[m * 100];
    Blas.correlations(D2, d, 0, m, Y, 0, 100, want);
    gpu.correlations(D2, d, 0, m, Y, 0, 100, got);
    assertTrue(relative(got, want) <= 1e-4, "after a new D");
  }

  @Test
  void gramAgreesWithCpu() {
    int d = 256;
    int m = 700;
    float[] D = gaussian(d * m, 4);
    float[] want = Blas.gram(D, d, m);
    float[] got = gpu.gram(D, d, m);
    assertEquals(want.length, got.length);
    double rel = relative(got, want);
    System.out.printf("DᵀD m=%d: relative difference GPU vs CPU %.2e%n", m, rel);
    assertTrue(rel <= 1e-4, "relative difference " + rel);
  }

  @Test
  void deviceSgemmRateAtThePaperShape() {
    double rate = gpu.deviceSgemmGflops(2304, 4096, 8192);
    double flops = 2.0 * 4096 * 2304 * 65536 + 2.0 * 4096 * 4096 * 2304;
    System.out.printf("cuBLAS SGEMM 4096 x 8192 x 2304, operands on the device: %.0f GFLOP/s -> the paper shape's "
        + "GEMM (%.2f TFLOP per batch) in %.3f s%n", rate, flops / 1e12, flops / (rate * 1e9));
    assertTrue(rate > 0, "rate " + rate);
  }
}
