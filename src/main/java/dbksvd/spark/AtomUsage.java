package dbksvd.spark;

import dbksvd.io.ModelDir;
import org.apache.spark.api.java.JavaSparkContext;

/** Per atom, the rows of a dataset whose code uses it (a non-zero coefficient): what {@code export} reports. */
public final class AtomUsage {
  private AtomUsage() {}

  public static long[] count(JavaSparkContext sc, RowSource source, ModelDir.Model model, int chunk) {
    return SparkEvaluate.stats(sc, source, model, Long.MAX_VALUE, chunk, "atom usage").usage;
  }
}
