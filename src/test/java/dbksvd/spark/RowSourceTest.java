package dbksvd.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.config.ZeroRows;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A file's name as the scan's rows give it ({@code _metadata.file_path}) is what {@link RowSource#scanName} makes of
 * its partition entry, also for paths that URL encoding changes (a space, '#', an escaped partition value): so the
 * splits' rows come from the files' counts, without a job.
 */
class RowSourceTest {
  @TempDir static Path tmp;

  @Test
  void filesAreNamedAsTheirRowsNameThemAlsoWhereEncodingChangesThePath() {
    SparkSession spark = TestSpark.session();
    StructType schema = new StructType().add("group", DataTypes.StringType)
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false));
    List<Row> data = new ArrayList<>();
    String[] groups = {"a b", "c%d", "e=f"};
    int rows = 0;
    for (int g = 0; g < groups.length; g++) {
      for (int i = 0; i < 40 + 25 * g; i++) { // unequal files: a count put on the wrong file shows
        data.add(RowFactory.create(groups[g], List.of(1f + i, 2f, (float) g, 0.5f)));
        rows++;
      }
    }
    String dir = tmp.resolve("odd dir #1").toString();
    spark.createDataFrame(data, schema).repartition(2).write().partitionBy("group").parquet(dir);

    Map<String, Long> counted = new HashMap<>();
    for (Row r : spark.read().parquet(dir).select(col("_metadata.file_path").as("file_path"))
        .groupBy("file_path").agg(count(lit(1))).collectAsList()) {
      counted.put(r.getString(0), r.getLong(1));
    }
    assertTrue(counted.keySet().stream().anyMatch(p -> p.contains("%")), "names URL-encoded: " + counted.keySet());

    RowSource source = RowSource.open(spark, dir, "embedding", ZeroRows.REFUSE);
    assertEquals(rows, source.rows);
    TreeSet<String> named = new TreeSet<>();
    List<Long> perPartition = new ArrayList<>();
    for (org.apache.spark.Partition p : source.rdd().rdd().partitions()) {
      long n = 0;
      for (PartitionedFile f : ((FilePartition) p).files()) {
        named.add(RowSource.scanName(f));
        n += counted.get(RowSource.scanName(f));
      }
      perPartition.add(n);
    }
    assertEquals(new TreeSet<>(counted.keySet()), named);
    long[] perSplit = source.splitRows(null); // whole files: their counts, found by name, no footer, no job
    assertNotNull(perSplit, "the splits' files are found by their names");
    assertArrayEquals(perPartition.stream().mapToLong(Long::longValue).toArray(), perSplit);
    assertEquals(rows, Arrays.stream(perSplit).sum());
  }
}
