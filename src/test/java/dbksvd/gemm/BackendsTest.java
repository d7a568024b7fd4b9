package dbksvd.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.linalg.Blas;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The backend choice on a machine without a usable GPU: the CPU, with the reason, or one clear error for cuda. */
class BackendsTest {
  static final String[] NONE = {};
  static final String[] GPU0 = {"0"};

  /** True where an NVIDIA driver is loaded (its control device exists). */
  static boolean nvidiaDriver() {
    return Files.exists(Path.of("/dev/nvidiactl"));
  }

  @Test
  void cpuWhenAskedOrWhenTheTaskHasNoGpu() {
    Backends.Choice cpu = Backends.choose("cpu", GPU0);
    assertSame(CpuGemm.INSTANCE, cpu.gemm());
    assertTrue(cpu.reason().contains("backend = cpu"), cpu.reason());
    for (String b : new String[] {"auto", " AUTO ", null}) {
      Backends.Choice c = Backends.choose(b, NONE);
      assertSame(CpuGemm.INSTANCE, c.gemm());
      assertTrue(c.reason().contains("no GPU assigned"), c.reason());
    }
    assertFalse(CpuGemm.INSTANCE.gpu());
    assertThrows(UnsupportedOperationException.class, () -> CpuGemm.INSTANCE.deviceSgemmGflops(8, 8, 8));
  }

  @Test
  void unknownNameOrCudaWithoutGpuIsOneClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.choose("tpu", NONE));
    assertTrue(e.getMessage().contains("must be auto, cpu or cuda, got 'tpu'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Backends.choose("cuda", NONE));
    assertTrue(e.getMessage().contains("given no GPU") && e.getMessage().contains("spark.task.resource.gpu.amount"),
        e.getMessage());
  }

  @Test
  void gpuAssignedButNoCudaClassesFallsBackToCpu() {
    Backends.Choice c = Backends.choose("auto", GPU0, "no.such.CudaPresets");
    assertSame(CpuGemm.INSTANCE, c.gemm());
    assertTrue(c.reason().contains("GPU 0 assigned") && c.reason().contains("no CUDA backend"), c.reason());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Backends.choose("cuda", GPU0, "no.such.CudaPresets"));
    assertTrue(e.getMessage().contains("mvn -Pcuda"), e.getMessage());
  }

  /**
   * The real CUDA backend, whose JavaCPP classes the test class path has (provided scope), on a machine without an
   * NVIDIA driver: opening it fails in the native loader, and auto falls back to the CPU saying why.
   */
  @Test
  void gpuAssignedButCudaDoesNotStartFallsBackToCpu() {
    Assumptions.assumeFalse(nvidiaDriver(), "an NVIDIA driver is loaded here: GpuGemmTest covers this machine");
    Backends.Choice c = Backends.choose("auto", new String[] {"7"});
    assertSame(CpuGemm.INSTANCE, c.gemm());
    assertTrue(c.reason().contains("GPU 7 assigned, but CUDA did not start"), c.reason());
    System.out.println("fall-back reason: " + c.reason());
    // the failure is remembered: later tasks fall back without trying again, with the same reason
    assertTrue(Backends.choose("auto", new String[] {"7"}).reason().equals(c.reason()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Backends.choose("cuda", new String[] {"7"}));
    assertTrue(e.getMessage().contains("CUDA did not start on GPU 7"), e.getMessage());
  }

  @Test
  void cpuBackendIsBlas() {
    int d = 24;
    int m = 10;
    int n = 7;
    SplittableRandom rng = new SplittableRandom(4);
    float[] D = new float[d * m];
    float[] Y = new float[d * (n + 3)];
    for (int i = 0; i < D.length; i++) {
      D[i] = (float) rng.nextGaussian();
    }
    for (int i = 0; i < Y.length; i++) {
      Y[i] = (float) rng.nextGaussian();
    }
    float[] want = new float[4 * n];
    float[] got = new float[4 * n];
    Blas.correlations(D, d, 3, 4, Y, 3, n, want);
    CpuGemm.INSTANCE.correlations(D, d, 3, 4, Y, 3, n, got);
    assertArrayEquals(want, got);
    float[] started = new float[4 * n];
    CpuGemm.INSTANCE.start(D, d, 3, 4, Y, 3, n, started).await();
    assertArrayEquals(want, started);
    assertArrayEquals(Blas.gram(D, d, m), CpuGemm.INSTANCE.gram(D, d, m));
  }
}
