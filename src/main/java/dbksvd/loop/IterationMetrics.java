package dbksvd.loop;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one iteration reports. fve, relativeError and meanL0 are measured at the encode stage (the codes of this
 * outer batch against the dictionary that entered the iteration); coherence is that dictionary's.
 *
 * @param seconds wall seconds per stage, in stage order
 * @param taskSeconds seconds inside tasks per kernel stage, summed over tasks ({@link dbksvd.util.TaskTimes})
 * @param bytes what the iteration moved between JVMs, where the stages measure it (Spark:
 *     {@code spark/Traffic}: shuffle, results, broadcast, tasks); empty in one JVM
 */
public record IterationMetrics(int iteration, long epoch, long samples, double fve, double relativeError,
    double meanL0, int deadAtoms, int duplicateAtoms, int replacedAtoms, double coherenceMax, double coherenceMean,
    Map<String, Double> seconds, Map<String, Double> taskSeconds, Map<String, Long> bytes) {

  /** One JSON object on one line (the metrics.jsonl format). */
  public String toJson() {
    StringBuilder sb = new StringBuilder();
    sb.append("{\"iteration\":").append(iteration)
        .append(",\"epoch\":").append(epoch)
        .append(",\"samples\":").append(samples)
        .append(",\"fve\":").append(num(fve))
        .append(",\"relative_error\":").append(num(relativeError))
        .append(",\"mean_l0\":").append(num(meanL0))
        .append(",\"dead_atoms\":").append(deadAtoms)
        .append(",\"duplicate_atoms\":").append(duplicateAtoms)
        .append(",\"replaced_atoms\":").append(replacedAtoms)
        .append(",\"coherence_max\":").append(num(coherenceMax))
        .append(",\"coherence_mean\":").append(num(coherenceMean))
        .append(",\"seconds\":{");
    boolean first = true;
    double total = 0;
    for (Map.Entry<String, Double> e : seconds.entrySet()) {
      sb.append(first ? "" : ",").append('"').append(e.getKey()).append("\":").append(num(e.getValue()));
      total += e.getValue();
      first = false;
    }
    sb.append(first ? "" : ",").append("\"total\":").append(num(total)).append("},\"task_seconds\":{");
    first = true;
    for (Map.Entry<String, Double> e : taskSeconds.entrySet()) {
      sb.append(first ? "" : ",").append('"').append(e.getKey()).append("\":").append(num(e.getValue()));
      first = false;
    }
    sb.append("}");
    if (!bytes.isEmpty()) {
      sb.append(",\"bytes\":{");
      first = true;
      for (Map.Entry<String, Long> e : bytes.entrySet()) {
        sb.append(first ? "" : ",").append('"').append(e.getKey()).append("\":").append(e.getValue());
        first = false;
      }
      sb.append("}");
    }
    sb.append("}");
    return sb.toString();
  }

  /** The console progress line. */
  public String progressLine(int iterations) {
    double total = seconds.values().stream().mapToDouble(Double::doubleValue).sum();
    return String.format("iteration %d/%d  fve %.4f  rel.err %.4f  L0 %.2f  dead %d  dup %d  coherence %.3f  %.2fs",
        iteration + 1, iterations, fve, relativeError, meanL0, deadAtoms, duplicateAtoms, coherenceMax, total);
  }

  private static String num(double v) {
    return Double.isFinite(v) ? Double.toString(v) : "null";
  }

  /** A mutable stage timer that keeps insertion order. */
  public static final class Timer {
    private final Map<String, Double> seconds = new LinkedHashMap<>();
    private long t0 = System.nanoTime();

    /** Ends the current stage under this name and starts the next. */
    public void lap(String stage) {
      long now = System.nanoTime();
      seconds.merge(stage, (now - t0) / 1e9, Double::sum);
      t0 = now;
    }

    public Map<String, Double> seconds() {
      return seconds;
    }
  }
}
