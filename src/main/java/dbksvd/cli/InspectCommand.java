package dbksvd.cli;

import com.typesafe.config.Config;
import dbksvd.spark.SparkInspect;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Per atom: the rows with the largest "
    + "coefficients, a sample of weaker ones, usage and nearest atoms; an HTML page and JSON.")
final class InspectCommand extends SparkCommand {
  @Option(names = "--model", required = true, paramLabel = "MODEL_DIR", description = "a model directory of fit")
  String model;
  @Option(names = "--input", required = true, paramLabel = "DATA", description = "Parquet dataset of embeddings")
  String input;
  @Option(names = "--output", required = true, paramLabel = "DIR", description = "where index.html and atoms.json go")
  String output;
  @Option(names = "--text-column", paramLabel = "C", description = "the column to show and search") String text;
  @Option(names = "--show-columns", paramLabel = "C,...", split = ",", description = "more columns to show")
  List<String> show = new ArrayList<>();
  @Option(names = "--atoms", paramLabel = "0-99|all", defaultValue = "all",
      description = "atoms to inspect (default: ${DEFAULT-VALUE})") String atoms;
  @Option(names = "--top", defaultValue = "20", description = "strongest rows per atom (default: ${DEFAULT-VALUE})")
  int top;
  @Option(names = "--sample", defaultValue = "5", description = "weaker rows per atom (default: ${DEFAULT-VALUE})")
  int sample;
  @Option(names = "--nearest", defaultValue = "5", description = "nearest atoms shown (default: ${DEFAULT-VALUE})")
  int nearest;
  @Option(names = "--seed", defaultValue = "0", description = "seed of the weaker rows' sample") long seed;
  @Option(names = "--column", paramLabel = "NAME", description = "the embedding column") String column;
  @Option(names = "--overwrite", description = "replace an existing output") boolean overwrite;

  @Override
  Map<String, Object> flags() {
    return map("dbksvd.input.column", column);
  }

  @Override
  int run(Config c, SparkSession spark) throws Exception {
    SparkInspect.run(c, spark, new SparkInspect.Request(model, input, output, text, show, atoms, top, sample, nearest,
        seed, overwrite), Main.OUT);
    return 0;
  }
}
