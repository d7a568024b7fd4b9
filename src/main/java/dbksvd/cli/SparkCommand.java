package dbksvd.cli;

import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.spark.Sessions;
import org.apache.spark.SparkExecutorInfo;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * What every command does around its job: the options all commands have (--conf, --set), the settings, a Spark
 * session started (and stopped) or joined, and a quiet stop after a failure.
 */
abstract class SparkCommand implements Callable<Integer> {
  @Option(names = "--conf", paramLabel = "FILE", description = "HOCON file with dbksvd.* settings")
  File conf;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "set any config key (repeatable)")
  List<String> sets = new ArrayList<>();

  /** The command's flags as config keys (null values: not given). */
  abstract Map<String, Object> flags();

  abstract int run(Config c, SparkSession spark) throws Exception;

  /** reference.conf, then {@code defaults}, then --conf, --set and the flags. */
  Config settings(Map<String, Object> defaults) {
    return Settings.load(conf, sets, flags(), defaults);
  }

  @Override
  public Integer call() throws Exception {
    Config c = settings(Map.of());
    // a session that was running before (a test, a notebook, spark-shell) is someone else's: leave it running
    boolean joined = SparkSession.getDefaultSession().isDefined() || SparkSession.getActiveSession().isDefined();
    SparkSession spark = Sessions.start(c);
    boolean ok = false;
    try {
      int rc = run(c, spark);
      ok = true;
      return rc;
    } finally {
      if (!joined) {
        if (!ok) {
          settle(spark);
        }
        spark.stop();
      }
    }
  }

  /**
   * After a failed job, lets the tasks Spark cancelled finish before the session stops (at most a few seconds):
   * stopped under running tasks, Spark logs a burst of unrelated errors and stack traces before dbksvd's one line.
   */
  static void settle(SparkSession spark) {
    var sc = spark.sparkContext();
    try {
      sc.cancelAllJobs();
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (System.nanoTime() < deadline && Arrays.stream(sc.statusTracker().getExecutorInfos())
          .mapToInt(SparkExecutorInfo::numRunningTasks).sum() > 0) {
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // the session is going anyway
    }
  }

  /** Config keys and flag values, in pairs; a null value (a flag not given) is left out. */
  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      if (kv[i + 1] != null) {
        m.put((String) kv[i], kv[i + 1]);
      }
    }
    return m;
  }
}
