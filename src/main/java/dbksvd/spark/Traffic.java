package dbksvd.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerBlockUpdated;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.storage.BlockUpdatedInfo;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a job moves, from Spark's own metrics (a listener on the driver's bus, the same figures as the event log):
 * bytes written to shuffle files, task results sent to the driver, and broadcast pieces fetched by executors other
 * than the driver (the bytes that cross the network; in local mode there are none). Counted from registration;
 * {@link #take} returns the counts since the last call.
 *
 * <p>Example: a Jacobi pass at m = 2048, d = 256 with two executors shows shuffle ≈ 2·m·(d + 3)·8 = 8.5 MB (each
 * executor's combined sums, keyed by atom range), results ≈ m·d·4 = 2.1 MB (the next Lanczos vectors).
 */
public final class Traffic extends SparkListener {
  public static final String SHUFFLE = "shuffle", RESULTS = "results", BROADCAST = "broadcast", TASKS = "tasks";

  private final AtomicLong shuffle = new AtomicLong();
  private final AtomicLong results = new AtomicLong();
  private final AtomicLong broadcast = new AtomicLong();
  private final AtomicLong tasks = new AtomicLong();
  private final String driverId;

  private Traffic(String driverId) {
    this.driverId = driverId;
  }

  /** A listener on sc's bus; remove it with {@link #close}. */
  public static Traffic attach(SparkContext sc) {
    Traffic t = new Traffic(org.apache.spark.SparkContext$.MODULE$.DRIVER_IDENTIFIER());
    sc.addSparkListener(t);
    return t;
  }

  public void close(SparkContext sc) {
    sc.removeSparkListener(this);
  }

  /** Waits (10 s at most) until the events of the jobs that have ended reached the listeners. */
  public static void drain(SparkContext sc) {
    try {
      sc.listenerBus().waitUntilEmpty(10_000);
    } catch (java.util.concurrent.TimeoutException e) {
      // the figures may miss a few late events: they are a measurement, not part of the result
    }
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    TaskMetrics m = end.taskMetrics();
    tasks.incrementAndGet();
    if (m != null) {
      shuffle.addAndGet(m.shuffleWriteMetrics().bytesWritten());
      results.addAndGet(m.resultSize());
    }
  }

  @Override
  public void onBlockUpdated(SparkListenerBlockUpdated update) {
    BlockUpdatedInfo info = update.blockUpdatedInfo();
    if (info.blockId().isBroadcast() && info.blockId().name().contains("_piece")
        && !driverId.equals(info.blockManagerId().executorId()) && info.storageLevel().isValid()) {
      broadcast.addAndGet(info.memSize() + info.diskSize());
    }
  }

  /**
   * The bytes counted since the last call (shuffle, results, broadcast, and the number of tasks), and restarts.
   * Spark's bus delivers events asynchronously: call after the jobs of interest have ended and the bus has drained.
   */
  public Map<String, Long> take() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put(SHUFFLE, shuffle.getAndSet(0));
    m.put(RESULTS, results.getAndSet(0));
    m.put(BROADCAST, broadcast.getAndSet(0));
    m.put(TASKS, tasks.getAndSet(0));
    return m;
  }
}
