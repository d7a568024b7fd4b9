package dbksvd.spark;

import com.typesafe.config.ConfigFactory;
import org.apache.spark.sql.SparkSession;

import java.util.Map;

/** One real local Spark for all tests of a JVM, started as bin/dbksvd starts it (Kryo and all). */
public final class TestSpark {
  private static SparkSession spark;

  private TestSpark() {}

  public static synchronized SparkSession session() {
    if (spark == null) {
      spark = Sessions.start(ConfigFactory.parseMap(Map.of("dbksvd.spark.master", "local[2]",
          "dbksvd.spark.ui", false)).withFallback(ConfigFactory.defaultReference()));
    }
    return spark;
  }
}
