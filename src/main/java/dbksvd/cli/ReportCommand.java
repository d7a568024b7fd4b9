package dbksvd.cli;

import com.typesafe.config.Config;
import dbksvd.spark.SparkReport;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Map;

@Command(name = "report", mixinStandardHelpOptions = true, description = "One self-contained HTML report of a model: "
    + "metrics per iteration, coherence, atom usage, time per stage, parameters.")
final class ReportCommand extends SparkCommand {
  @Option(names = "--model", required = true, paramLabel = "MODEL_DIR", description = "a model directory of fit")
  String model;
  @Option(names = "--output", required = true, paramLabel = "FILE", description = "the HTML file to write")
  String output;
  @Option(names = "--input", paramLabel = "DATA", description = "data to measure atom usage on (optional)")
  String input;
  @Option(names = "--usage-rows", defaultValue = "65536", paramLabel = "N",
      description = "usage over the first N rows of --input (default: ${DEFAULT-VALUE})") long usageRows;
  @Option(names = "--column", paramLabel = "NAME", description = "the embedding column") String column;

  @Override
  Map<String, Object> flags() {
    return map("dbksvd.input.column", column);
  }

  @Override
  int run(Config c, SparkSession spark) throws Exception {
    SparkReport.run(c, spark, model, output, input, usageRows, Main.OUT);
    return 0;
  }
}
