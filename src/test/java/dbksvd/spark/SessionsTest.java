package dbksvd.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkContext;
import org.junit.jupiter.api.Test;

/** What {@link Sessions} sets on a session it starts. */
class SessionsTest {
  /**
   * Shuffles without map-side combine take Spark's serialized writer, which writes each map output once: the
   * bypass threshold is 0 and the serializer (Kryo with dbksvd's registrator) can relocate serialized records, the
   * writer's other condition. A Kryo set up without it would send the shuffle to the sort writer instead.
   */
  @Test
  void shufflesAreWrittenOnceBySparksSerializedWriter() {
    SparkContext sc = TestSpark.session().sparkContext();
    assertEquals("0", sc.getConf().get("spark.shuffle.sort.bypassMergeThreshold"));
    assertTrue(sc.env().serializer().supportsRelocationOfSerializedObjects(), sc.env().serializer().toString());
  }

  /** Floats and exact double sums are shuffled uncompressed (lz4 barely shrinks them and costs the update time). */
  @Test
  void shufflesAreNotCompressed() {
    SparkContext sc = TestSpark.session().sparkContext();
    assertEquals("false", sc.getConf().get("spark.shuffle.compress"));
  }
}
