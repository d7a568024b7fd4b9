package dbksvd.realdata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dbksvd.spark.TestSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

class StableParquetTest {
  @TempDir Path tmp;

  static org.apache.hadoop.fs.Path hadoop(Path p) {
    return new org.apache.hadoop.fs.Path(p.toUri());
  }

  /** Two footers that differ only in the order of the encodings lists become the same bytes; the rows stay. */
  @Test
  void footersThatDifferOnlyInEncodingsOrderBecomeTheSameBytes() throws Exception {
    SparkSession spark = TestSpark.session();
    String dir = tmp.resolve("d").toString();
    // dictionary-encoded strings and plain longs: column chunks that list two or more encodings
    spark.range(0, 500).selectExpr("id", "concat('w', cast(id % 7 as string)) as word").coalesce(1)
        .write().parquet(dir);
    Path file;
    try (Stream<Path> s = Files.list(Path.of(dir))) {
      file = s.filter(p -> p.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
    }
    FileSystem fs = FileSystem.getLocal(new Configuration());
    Path reversed = tmp.resolve("reversed.parquet");
    StableParquet.copy(fs, hadoop(file), hadoop(reversed), Collections::reverse); // as another JVM may list them
    Path a = tmp.resolve("a.parquet");
    Path b = tmp.resolve("b.parquet");
    StableParquet.copy(fs, hadoop(file), hadoop(a));
    StableParquet.copy(fs, hadoop(reversed), hadoop(b));
    byte[] bytesA = Files.readAllBytes(a);
    assertFalse(java.util.Arrays.equals(Files.readAllBytes(file), Files.readAllBytes(reversed)),
        "the test file must have a list of two or more encodings");
    assertArrayEquals(bytesA, Files.readAllBytes(b));
    assertEquals(Files.size(file), bytesA.length);
    List<Row> original = spark.read().parquet(dir).orderBy("id").collectAsList();
    assertEquals(original, spark.read().parquet(b.toString()).orderBy("id").collectAsList());
  }
}
