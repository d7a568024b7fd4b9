package dbksvd.util;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Seconds spent inside tasks, per stage, summed over the tasks of an iteration (so with P tasks running at once the
 * wall share of a stage is about its sum ÷ P). Filled by the kernels' callers; the benchmark reads them to say where
 * an iteration's time goes.
 */
public final class TaskTimes implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Stage names, in pipeline order. */
  public static final String[] STAGES = {"read", "dty", "mp", "residual", "route", "merge", "update"};

  private final double[] seconds = new double[STAGES.length];

  public static int stage(String name) {
    for (int i = 0; i < STAGES.length; i++) {
      if (STAGES[i].equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("no stage " + name);
  }

  public static final int READ = 0, DTY = 1, MP = 2, RESIDUAL = 3, ROUTE = 4, MERGE = 5, UPDATE = 6;

  public void add(int stage, long nanos) {
    seconds[stage] += nanos / 1e9;
  }

  public double get(int stage) {
    return seconds[stage];
  }

  public TaskTimes merge(TaskTimes o) {
    if (o != null) {
      for (int i = 0; i < seconds.length; i++) {
        seconds[i] += o.seconds[i];
      }
    }
    return this;
  }

  public Map<String, Double> asMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < STAGES.length; i++) {
      m.put(STAGES[i], seconds[i]);
    }
    return m;
  }
}
