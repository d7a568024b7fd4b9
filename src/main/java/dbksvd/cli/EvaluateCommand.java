package dbksvd.cli;

import com.typesafe.config.Config;
import dbksvd.spark.SparkEvaluate;
import dbksvd.spark.SparkProbe;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Map;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "FVE, relative error, L0, dead atoms, coherence (and recovery, and k-sparse probing).")
final class EvaluateCommand extends SparkCommand {
  @Option(names = "--model", required = true, paramLabel = "MODEL_DIR", description = "a model directory of fit")
  String model;
  @Option(names = "--input", required = true, paramLabel = "DATA", description = "Parquet dataset of embeddings")
  String input;
  @Option(names = "--reference", paramLabel = "MODEL_DIR", description = "a known dictionary: adds recovery_rate")
  String reference;
  @Option(names = "--json", paramLabel = "FILE", description = "also write the report to this file")
  String json;
  @Option(names = "--column", paramLabel = "NAME", description = "the embedding column") String column;
  @Option(names = "--label-column", paramLabel = "NAME", description = "k-sparse probing of this label column")
  String labelColumn;
  @Option(names = "--split-column", paramLabel = "NAME", description = "probe split per row: train or test "
      + "(default: seeded, see --test-fraction)") String splitColumn;
  @Option(names = "--probe-k", paramLabel = "K,...", split = ",", defaultValue = "1,5,20",
      description = "atoms per probe (default: ${DEFAULT-VALUE})") int[] probeK;
  @Option(names = "--test-fraction", defaultValue = "0.2", description = "seeded split: share of rows in the "
      + "test split (default: ${DEFAULT-VALUE})") double testFraction;
  @Option(names = "--split-seed", defaultValue = "0", description = "seed of the seeded split") long splitSeed;
  @Option(names = "--encoder", paramLabel = "mp|mp-refit|omp", description = "code with this encoder instead of "
      + "the model's") String encoder;
  @Option(names = "--rtol", paramLabel = "R", description = "stop coding a row once ||r|| <= R ||y|| (default: the "
      + "model's)") Double rtol;

  @Override
  Map<String, Object> flags() {
    return map("dbksvd.input.column", column, "dbksvd.encode.encoder", encoder, "dbksvd.encode.rtol", rtol);
  }

  @Override
  int run(Config c, SparkSession spark) throws Exception {
    if (labelColumn == null && splitColumn != null) {
      throw new IllegalArgumentException("--split-column needs --label-column");
    }
    SparkProbe.Options probe = labelColumn == null ? null
        : new SparkProbe.Options(labelColumn, splitColumn, probeK, testFraction, splitSeed);
    SparkEvaluate.run(c, spark, model, input, reference, json, probe, Main.OUT);
    return 0;
  }
}
