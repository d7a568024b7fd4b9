package dbksvd.cli;

import com.typesafe.config.Config;
import dbksvd.spark.SparkGenerate;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Map;

@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Write synthetic data with a planted dictionary as Parquet.")
final class GenerateCommand extends SparkCommand {
  @Option(names = "--output", required = true, paramLabel = "DIR", description = "the Parquet dataset to write")
  String output;
  @Option(names = "--dim", paramLabel = "d", description = "embedding dimension") Integer dim;
  @Option(names = "--atoms", paramLabel = "m", description = "atoms of the planted dictionary") Integer atoms;
  @Option(names = "--k", description = "non-zeros per planted code") Integer k;
  @Option(names = "--samples", paramLabel = "n", description = "rows") Long samples;
  @Option(names = "--snr-db", paramLabel = "X", description = "noise level in dB (default: no noise)") String snrDb;
  @Option(names = "--seed", description = "fixes the dictionary, codes and noise") Long seed;
  @Option(names = "--partitions", description = "number of output files") Integer partitions;
  @Option(names = "--format", paramLabel = "array|binary",
      description = "embedding column as array<float> or binary float32 (faster to read)") String format;
  @Option(names = "--truth", paramLabel = "MODEL_DIR", description = "also save the planted dictionary as a model")
  String truth;
  @Option(names = "--overwrite", description = "replace existing outputs") boolean overwrite;
  @Option(names = "--labels", paramLabel = "C", description = "also write columns text (the planted atoms) and "
      + "label (one of C classes, each marked by planted atom = its class)") Integer labels;

  @Override
  Map<String, Object> flags() {
    return map("dbksvd.generate.dim", dim, "dbksvd.generate.atoms", atoms, "dbksvd.generate.k", k,
        "dbksvd.generate.samples", samples, "dbksvd.generate.snr-db", snrDb, "dbksvd.generate.seed", seed,
        "dbksvd.generate.partitions", partitions, "dbksvd.generate.format", format);
  }

  @Override
  int run(Config c, SparkSession spark) throws Exception {
    SparkGenerate.run(c, spark, output, truth, overwrite, labels == null ? 0 : labels, Main.OUT);
    return 0;
  }
}
