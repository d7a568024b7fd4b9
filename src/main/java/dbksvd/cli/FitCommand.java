package dbksvd.cli;

import com.typesafe.config.Config;
import dbksvd.spark.FitJob;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Map;

@Command(name = "fit", mixinStandardHelpOptions = true,
    description = "Learn a dictionary from a Parquet dataset of embeddings.")
final class FitCommand extends SparkCommand {
  @Option(names = "--input", required = true, paramLabel = "DATA", description = "Parquet dataset of embeddings")
  String input;
  @Option(names = "--output", required = true, paramLabel = "MODEL_DIR", description = "the model directory")
  String output;
  @Option(names = "--atoms", paramLabel = "m", description = "atoms of D") Integer atoms;
  @Option(names = "--k", description = "non-zeros per code") Integer k;
  @Option(names = "--batch-size", paramLabel = "n", description = "samples per outer batch") Integer batchSize;
  @Option(names = "--batching", paramLabel = "rows|splits|window", description = "outer batches of single rows (a "
      + "shuffle per epoch), of whole input splits (no shuffle) or of shares of a window of splits (no shuffle)")
  String batching;
  @Option(names = "--window", paramLabel = "W", description = "batching window: batches per window (W·n rows kept "
      + "in memory)") Integer window;
  @Option(names = "--iterations", paramLabel = "T", description = "outer batches to fit") Integer iterations;
  @Option(names = "--encoder", paramLabel = "mp|mp-refit|omp", description = "the sparse coder") String encoder;
  @Option(names = "--matryoshka", paramLabel = "L", description = "nested groups of 2^L, 2^L, 2^(L+1), ... atoms")
  Integer matryoshka;
  @Option(names = "--update", paramLabel = "jacobi|gauss-seidel|jacobi-batches", description = "the dictionary "
      + "update")
  String update;
  @Option(names = "--update-passes", paramLabel = "P", description = "jacobi, jacobi-batches: Lanczos passes per "
      + "iteration (per atom batch)")
  Integer updatePasses;
  @Option(names = "--atom-batches", paramLabel = "B", description = "gauss-seidel, jacobi-batches: atom batches per "
      + "group")
  Integer atomBatches;
  @Option(names = "--seed", description = "fixes every random choice") Long seed;
  @Option(names = "--time-budget", paramLabel = "SECONDS", description = "stop after the iteration that crosses "
      + "this many seconds (or a duration: 10m) and write the model")
  String timeBudget;
  @Option(names = "--init-dictionary", paramLabel = "PATH", description = "start from a given dictionary: a model "
      + "directory, an (r, d) .npy or a .safetensors W_dec; its r <= m rows become the first atoms")
  String initDictionary;
  @Option(names = "--column", paramLabel = "NAME", description = "the embedding column") String column;
  @Option(names = "--overwrite", description = "replace an existing model directory") boolean overwrite;
  @Option(names = "--resume", description = "continue from the newest checkpoint of this fit, if any")
  boolean resume;

  @Override
  Map<String, Object> flags() {
    return map("dbksvd.fit.atoms", atoms, "dbksvd.fit.k", k, "dbksvd.fit.batch-size", batchSize,
        "dbksvd.fit.iterations", iterations, "dbksvd.fit.encoder", encoder, "dbksvd.fit.matryoshka", matryoshka,
        "dbksvd.fit.update", update, "dbksvd.fit.update-passes", updatePasses,
        "dbksvd.fit.atom-batches", atomBatches, "dbksvd.fit.seed", seed, "dbksvd.input.column", column,
        "dbksvd.fit.init-dictionary", initDictionary, "dbksvd.fit.batching", batching, "dbksvd.fit.window", window,
        "dbksvd.fit.time-budget", timeBudget);
  }

  @Override
  int run(Config c, SparkSession spark) throws Exception {
    FitJob.run(c, spark, input, output, overwrite, resume, Main.OUT, null);
    return 0;
  }
}
