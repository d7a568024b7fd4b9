package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The memory plan: its parts by formula, and the one-line refusals. */
class MemoryPlanTest {
  static final long GB = 1_000_000_000L;

  @Test
  void partsFollowTheFormulas() {
    FitParams p = FitParams.builder(4096, 20).build(); // jacobi, 3 passes, chunk 1024, n = 65,536
    MemoryPlan plan = MemoryPlan.of(p, 2304, 1_000_000, 4, 8, 16 * GB, 8 * GB, false);
    long md = 4096L * 2304;
    assertEquals(4L * 4096 * 4096, plan.executorFixed().get("G"));
    assertEquals(4L * 6 * md, plan.executorFixed().get("broadcasts"));
    assertEquals(8L * 4096 * 2307, plan.executorFixed().get("jacobi sums"));
    assertEquals(4L * 6 * md / 4, plan.executorFixed().get("lanczos states"));
    assertEquals(4L * 8 * (4096L * 1024 + 2304L * 1024) * 2, plan.executorFixed().get("gemm buffers"));
    assertEquals(4L * 16384 * 2304 * 2 + 8L * 16384 * 20, plan.executorBatch(), "a quarter of the batch each");
    MemoryPlan window = MemoryPlan.of(p.toBuilder().batching(Batching.WINDOW).window(3).build(), 2304, 1_000_000,
        4, 8, 16 * GB, 8 * GB, false);
    assertEquals(plan.executorBatch() + 3 * 4L * 16384 * 2304, window.executorBatch(), "and 3 batches of rows held");
    MemoryPlan small = MemoryPlan.of(p.toBuilder().batching(Batching.WINDOW).window(8).build(), 2304, 100_000,
        4, 8, 16 * GB, 8 * GB, false);
    assertEquals(2, small.window(), "a window holds at most the batches of an epoch");
    assertEquals(20L * md, plan.driverOwn());
    assertEquals(plan.driverOwn(), plan.driverPeak(), "a cluster's driver holds no executor part");
    MemoryPlan local = MemoryPlan.of(p, 2304, 1_000_000, 1, 2, 8 * GB, 8 * GB, true);
    assertEquals(local.driverOwn() + local.executorPeak(), local.driverPeak());
    plan.check();
    local.check();
    assertTrue(plan.summary().startsWith("memory: executor "), plan.summary());
  }

  @Test
  void aFitThatCannotFitIsRefusedNamingTheNumbers() {
    FitParams huge = FitParams.builder(300_000, 4).init(Init.UNIFORM).build();
    var e = assertThrows(IllegalArgumentException.class,
        () -> MemoryPlan.of(huge, 32, 40_000, 4, 4, 8 * GB, 4 * GB, false).check());
    assertTrue(e.getMessage().startsWith("m = 300000 needs 360.0 GB for G per executor"), e.getMessage());
    assertTrue(e.getMessage().endsWith("executors have 8.0 GB (spark.executor.memory)"), e.getMessage());
    var local = assertThrows(IllegalArgumentException.class,
        () -> MemoryPlan.of(huge, 32, 40_000, 1, 2, 16 * GB, 16 * GB, true).check());
    assertTrue(local.getMessage().endsWith("the local JVM has 16.0 GB (-Xmx, DBKSVD_JAVA_OPTS)"), local.getMessage());
    // enough memory, but G over one Java array
    FitParams wide = FitParams.builder(50_000, 4).init(Init.UNIFORM).build();
    var array = assertThrows(IllegalArgumentException.class,
        () -> MemoryPlan.of(wide, 32, 40_000, 4, 4, 64 * GB, 4 * GB, false).check());
    assertTrue(array.getMessage().contains("at most 46340 atoms"), array.getMessage());
    // m = 32768 fits a 16 GB JVM in local mode
    MemoryPlan.of(FitParams.builder(32_768, 4).batchSize(40_000).build(), 32, 40_000, 1, 2, 16 * GB, 16 * GB, true)
        .check();
  }
}
