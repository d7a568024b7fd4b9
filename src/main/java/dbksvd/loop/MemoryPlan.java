package dbksvd.loop;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.update.Update;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The peak memory of a fit on the driver and on an executor, from its shape alone, before any work: printed on the
 * {@code fit:} line, and a fit that cannot fit is refused in one line naming what it needs and what there is.
 *
 * <p>An executor holds G = DᵀD (m² floats, one copy per JVM), the broadcast D of the iteration, the next one and the
 * Lanczos vectors of the Jacobi passes ((3 + T)·m·d floats), one set of Jacobi sums (m·(d + 3) doubles) and its
 * share of the Lanczos states (2·T·m·d/E floats), each core's GEMM buffers (m_g·c + d·c floats for chunk c), and its
 * share of the batch: rows (n·d/E floats), final residuals (n·d/E floats), with Matryoshka groups one residual of
 * an earlier group replayed at a time (n·d/E floats), codes (n·k/E ints and floats) and, with
 * {@code batching = window}, the rows of the window (W·n·d/E floats), which Spark may spill to disk. The driver
 * holds D, the updated D, the next Lanczos vectors and the new atoms
 * (4·m·d floats), the candidates for re-drawn atoms and the initial samples (m·d floats), and, in local mode, the
 * executor's part as well.
 *
 * <p>Example: m = 4096, d = 2304, n = 65,536, k = 20, T = 3, one executor of 2 cores: G 67 MB, broadcasts 226 MB,
 * sums 76 MB, batch 1.3 GB (spillable): about 1.8 GB.
 *
 * @param executors E, the executors that hold the batch (1 in local mode)
 * @param coresPerExecutor tasks that encode at once in one executor
 * @param executorBytes an executor's heap ({@code spark.executor.memory}; the JVM's in local mode)
 * @param driverBytes the driver's heap
 * @param local driver and executor are one JVM (local mode): their needs add up
 * @param window W, the batches of rows a window holds ({@code batching = window}; 0 for the others)
 */
public record MemoryPlan(int m, int d, long n, int k, int groups, int passes, int chunk, int executors,
    int coresPerExecutor, long executorBytes, long driverBytes, boolean local, int window) {

  /** Spark keeps 300 MB of each heap for itself (its "reserved memory"). */
  static final long RESERVED = 300L << 20;

  public static MemoryPlan of(FitParams p, int d, long rows, int executors, int coresPerExecutor,
      long executorBytes, long driverBytes, boolean local) {
    AtomGroups g = p.groups();
    int passes = p.update() instanceof Update.GaussSeidel ? 1 : p.update().passes();
    long n = Math.min(p.batchSize(), rows);
    int window = p.batching() == Batching.WINDOW ? (int) Math.min(p.window(), (rows + n - 1) / n) : 0;
    return new MemoryPlan(p.m(), d, n, p.k(), g.count(), passes, p.encodeChunk(),
        Math.max(1, executors), Math.max(1, coresPerExecutor), executorBytes, driverBytes, local, window);
  }

  /** Bytes of an executor's parts that must stay in memory, by name. */
  public Map<String, Long> executorFixed() {
    Map<String, Long> b = new LinkedHashMap<>();
    long md = (long) m * d;
    b.put("G", 4L * m * m);
    b.put("broadcasts", 4L * (3 + passes) * md);
    b.put("jacobi sums", 8L * m * (d + 3));
    b.put("lanczos states", 4L * 2 * passes * md / executors);
    b.put("gemm buffers", 4L * coresPerExecutor * ((long) m * chunk + (long) d * chunk) * 2);
    return b;
  }

  /** Bytes of an executor's share of the batch (cached blocks Spark may spill to disk). */
  public long executorBatch() {
    long share = (n + executors - 1) / executors;
    return 4L * share * d * ((groups > 1 ? 3 : 2) + window) + 8L * share * k;
  }

  public long executorFixedTotal() {
    return executorFixed().values().stream().mapToLong(Long::longValue).sum();
  }

  public long executorPeak() {
    return executorFixedTotal() + executorBatch();
  }

  /** The driver's own needs (D, updated D, Lanczos vectors, new atoms, samples and candidates). */
  public long driverOwn() {
    return 4L * 5 * m * d;
  }

  /** The driver's peak; in local mode the executor's with it. */
  public long driverPeak() {
    return driverOwn() + (local ? executorPeak() : 0);
  }

  /** The largest result one job sends to the driver: the Lanczos vectors or the atoms, m·d floats, with room. */
  public long maxResultBytes() {
    return 4L * 2 * m * d + (64L << 20);
  }

  /**
   * Refuses, in one line, a fit that cannot run: G over one Java array, or the parts an executor (or the local JVM)
   * must keep in memory above its heap. Only the spillable batch may exceed memory (it then goes to disk).
   */
  public void check() {
    long fixedNeed = local ? executorFixedTotal() + driverOwn() : executorFixedTotal();
    long have = (local ? driverBytes : executorBytes) - RESERVED;
    if (fixedNeed > have) {
      String where = local ? "the local JVM has " + gb(local ? driverBytes : executorBytes)
          + " (-Xmx, DBKSVD_JAVA_OPTS)" : "executors have " + gb(executorBytes) + " (spark.executor.memory)";
      throw new IllegalArgumentException(String.format(Locale.ROOT, "m = %d needs %s for G per executor (%s in "
          + "all that must stay in memory); %s", m, gb(4L * m * m), gb(fixedNeed), where));
    }
    if (m > Dictionary.MAX_ATOMS) {
      throw new IllegalArgumentException("m = " + m + " atoms: G = DᵀD would have " + (long) m * m
          + " entries, over the 2^31 − 1 of one Java array; at most " + Dictionary.MAX_ATOMS + " atoms");
    }
    if (!local && driverOwn() > driverBytes - RESERVED) {
      throw new IllegalArgumentException(String.format(Locale.ROOT, "m = %d, d = %d needs %s on the driver; it has "
          + "%s (spark.driver.memory)", m, d, gb(driverOwn()), gb(driverBytes)));
    }
  }

  /** One line for the {@code fit:} output. */
  public String summary() {
    return String.format(Locale.ROOT, "memory: executor %s (G %s, batch share %s) of %s, driver %s of %s",
        gb(executorPeak()), gb(4L * m * m), gb(executorBatch()), gb(local ? driverBytes : executorBytes),
        gb(local ? driverOwn() : driverPeak()), gb(driverBytes));
  }

  /** Bytes in decimal units (GB = 10^9 bytes), as memory settings are read. */
  static String gb(long bytes) {
    if (bytes >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }
    return String.format(Locale.ROOT, "%d MB", Math.max(1, bytes / 1_000_000));
  }
}
