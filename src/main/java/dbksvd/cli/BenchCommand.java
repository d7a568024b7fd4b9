package dbksvd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.io.AtomicFile;
import dbksvd.spark.Bench;
import dbksvd.spark.SparkGenerate;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Time the Spark job per stage against the measured SGEMM rate.")
final class BenchCommand extends SparkCommand {
  @Option(names = "--dim", defaultValue = "2304", paramLabel = "d", description = "default: ${DEFAULT-VALUE}")
  int dim;
  @Option(names = "--atoms", defaultValue = "4096", paramLabel = "m", description = "default: ${DEFAULT-VALUE}")
  int atoms;
  @Option(names = "--k", defaultValue = "20", description = "default: ${DEFAULT-VALUE}") int k;
  @Option(names = "--batch-size", defaultValue = "65536", paramLabel = "n", description = "default: ${DEFAULT-VALUE}")
  int batchSize;
  @Option(names = "--iterations", defaultValue = "3", description = "the first one is a warm-up; 0: stop after "
      + "measuring the read (default: ${DEFAULT-VALUE})") int iterations;
  @Option(names = "--data", paramLabel = "DIR", description = "existing data (default: generated, one batch)")
  String data;
  @Option(names = "--partitions", defaultValue = "0", description = "files to generate (default: task slots)")
  int partitions;
  @Option(names = "--json", paramLabel = "FILE", description = "also write the figures to this file") String json;
  @Option(names = "--format", defaultValue = "binary", paramLabel = "array|binary",
      description = "embedding column of the generated data (default: ${DEFAULT-VALUE})") String format;
  @Option(names = "--update", paramLabel = "jacobi|gauss-seidel|jacobi-batches", description = "the dictionary "
      + "update") String update;
  @Option(names = "--update-passes", paramLabel = "P", description = "jacobi, jacobi-batches: Lanczos passes per "
      + "iteration (per atom batch)")
  Integer updatePasses;

  @Override
  Map<String, Object> flags() {
    return map("dbksvd.fit.atoms", atoms, "dbksvd.fit.k", k, "dbksvd.fit.batch-size", batchSize,
        "dbksvd.fit.iterations", iterations, "dbksvd.fit.update", update, "dbksvd.fit.update-passes", updatePasses);
  }

  @Override
  int run(Config c, SparkSession spark) throws Exception {
    String input = data;
    Path tmp = null;
    if (input == null) {
      tmp = Files.createTempDirectory("dbksvd-bench");
      input = tmp.resolve("data").toString();
      int files = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
      long t0 = System.nanoTime();
      SparkGenerate.write(spark, input, dim, atoms, k, batchSize, 20, 0, files, false,
          SparkGenerate.Format.parse(format), 0);
      Main.OUT.printf("generated %d x %d as Parquet (%d files, %s column) in %.1f s%n", batchSize, dim, files,
          format, (System.nanoTime() - t0) / 1e9);
    }
    try {
      ObjectNode o = Bench.run(spark, input, Settings.fitParams(c), Main.OUT);
      if (json != null) {
        AtomicFile.write(spark.sparkContext().hadoopConfiguration(), json,
            (new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        Main.OUT.println("wrote " + json);
      }
    } finally {
      if (tmp != null) {
        FileUtils.deleteDirectory(tmp.toFile());
      }
    }
    return 0;
  }
}
