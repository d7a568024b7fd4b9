package dbksvd.gemm;

import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Picks the GEMM backend of a task: {@code dbksvd.gemm.backend} = {@code cpu}, {@code cuda} or {@code auto} (the
 * default: the GPU when the task was given one — Spark's {@code spark.task.resource.gpu.amount} — and the CUDA
 * backend loads, else the CPU). The choice is logged once per JVM and device, with the reason for a CPU fall-back.
 * A GPU backend is opened once per device and JVM and shared by the tasks that run there.
 */
public final class Backends {
  private static final Logger LOG = Logger.getLogger(Backends.class.getName());
  /** The CUDA backend, loaded by reflection so that the CPU path never touches CUDA classes. */
  static final String CUDA_CLASS = "dbksvd.gemm.CudaGemm";
  /** A class of JavaCPP's CUDA presets, which only builds with the {@code cuda} Maven profile ship. */
  static final String CUBLAS_CLASS = "org.bytedeco.cuda.global.cublas";
  /** Per device: the opened backend, or the reason it did not open. */
  private static final ConcurrentHashMap<String, Object> OPEN = new ConcurrentHashMap<>();
  private static final ConcurrentHashMap<String, Boolean> LOGGED = new ConcurrentHashMap<>();

  private Backends() {}

  /** Why a task runs where it runs: the backend, and for a CPU fall-back the reason. */
  public record Choice(Gemm gemm, String reason) {}

  /**
   * The backend for a task given the GPU addresses Spark assigned to it (empty: none).
   *
   * @throws IllegalArgumentException for {@code cuda} when no GPU or no CUDA backend is to be had, or an unknown name
   */
  public static Choice choose(String backend, String[] gpus) {
    return choose(backend, gpus, CUBLAS_CLASS);
  }

  /** As above, taking the CUDA presets to be present when {@code cublasClass} loads (tests name a missing one). */
  static Choice choose(String backend, String[] gpus, String cublasClass) {
    String b = name(backend);
    if (b.equals("cpu")) {
      return log(new Choice(CpuGemm.INSTANCE, "dbksvd.gemm.backend = cpu"));
    }
    if (gpus == null || gpus.length == 0) {
      if (b.equals("cuda")) {
        throw new IllegalArgumentException("dbksvd.gemm.backend = cuda, but this task was given no GPU (set "
            + "spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount, see deploy/gpu/README.md)");
      }
      return log(new Choice(CpuGemm.INSTANCE, "no GPU assigned to this task"));
    }
    String device = gpus[0].trim();
    if (!present(cublasClass)) {
      if (b.equals("cuda")) {
        throw new IllegalArgumentException("dbksvd.gemm.backend = cuda, but this build has no CUDA backend (build "
            + "with mvn -Pcuda package, see deploy/gpu/README.md)");
      }
      return log(new Choice(CpuGemm.INSTANCE, "GPU " + device + " assigned, but this build has no CUDA backend "
          + "(mvn -Pcuda)"));
    }
    Object opened = OPEN.computeIfAbsent(device, Backends::open);
    if (opened instanceof Gemm g) {
      return log(new Choice(g, "GPU " + device + " assigned to the task"));
    }
    if (b.equals("cuda")) {
      throw new IllegalArgumentException("dbksvd.gemm.backend = cuda, but CUDA did not start on GPU " + device + ": "
          + opened);
    }
    return log(new Choice(CpuGemm.INSTANCE, "GPU " + device + " assigned, but CUDA did not start: " + opened));
  }

  /**
   * The backend's name, trimmed and in lower case ({@code null}: auto).
   *
   * @throws IllegalArgumentException when it is not auto, cpu or cuda
   */
  public static String name(String backend) {
    String b = backend == null ? "auto" : backend.trim().toLowerCase(java.util.Locale.ROOT);
    if (!b.equals("auto") && !b.equals("cpu") && !b.equals("cuda")) {
      throw new IllegalArgumentException("dbksvd.gemm.backend must be auto, cpu or cuda, got '" + backend + "'");
    }
    return b;
  }

  /** True when the class loads (not initialised): JavaCPP's CUDA presets are on the class path. */
  private static boolean present(String cls) {
    try {
      Class.forName(cls, false, Backends.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** The opened backend, or why it did not open (kept, so that later tasks do not try again). */
  private static Object open(String device) {
    try {
      return (Gemm) Class.forName(CUDA_CLASS).getMethod("open", int.class).invoke(null, Integer.parseInt(device));
    } catch (java.lang.reflect.InvocationTargetException e) {
      Throwable c = e.getCause();
      while (c instanceof ExceptionInInitializerError && c.getCause() != null) {
        c = c.getCause();
      }
      return c instanceof UnsatisfiedLinkError ? c + " (a GPU node needs the NVIDIA driver and the CUDA 12 runtime "
          + "libraries libcudart.so.12 and libcublas.so.12 on its library path)" : c.toString();
    } catch (ReflectiveOperationException | NumberFormatException | LinkageError e) {
      return e.toString();
    }
  }

  private static Choice log(Choice c) {
    String key = c.gemm().name() + " | " + c.reason();
    if (LOGGED.putIfAbsent(key, Boolean.TRUE) == null) {
      LOG.info("GEMM backend: " + c.gemm().name() + (c.gemm().gpu() ? "" : " (" + c.reason() + ")"));
    }
    return c;
  }
}
