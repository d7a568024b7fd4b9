package dbksvd.spark;

import org.apache.spark.api.java.JavaRDD;

/** The rows of outer batch t as blocks, one per task: {@link OuterBatches} (rows) or {@link SplitBatches}. */
interface BatchReader {
  /** The blocks of outer batch t (each task's rows, any order: the result does not depend on it). */
  JavaRDD<RowSource.Block> of(long t);

  /** Drops what the reader persisted. */
  void close();
}
