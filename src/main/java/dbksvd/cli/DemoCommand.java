package dbksvd.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dbksvd.spark.FitJob;
import dbksvd.spark.SparkEvaluate;
import dbksvd.spark.SparkGenerate;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.util.Map;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Generate planted data, fit, evaluate: the whole path in a few minutes.")
final class DemoCommand extends SparkCommand {
  @Option(names = "--dir", paramLabel = "DIR", defaultValue = "demo-output",
      description = "where the demo writes (default: ${DEFAULT-VALUE}; replaced on each run)")
  String dir;

  @Override
  Map<String, Object> flags() {
    return map();
  }

  @Override
  int run(Config c, SparkSession spark) throws Exception {
    String data = dir + "/data";
    String truth = dir + "/truth";
    String model = dir + "/model";
    String report = dir + "/evaluation.json";
    // the demo's small shape sits below --conf and --set
    Config demo = settings(map("dbksvd.generate.dim", 64, "dbksvd.generate.atoms", 128, "dbksvd.generate.k", 4,
        "dbksvd.generate.samples", 20000, "dbksvd.generate.snr-db", "30", "dbksvd.generate.partitions", 4,
        "dbksvd.fit.atoms", 128, "dbksvd.fit.k", 4, "dbksvd.fit.batch-size", 8192, "dbksvd.fit.iterations", 25));
    Main.OUT.printf("== dbksvd demo: planted dictionary d=%d, m=%d, k=%d; %d rows; fit %d iterations ==%n",
        demo.getInt("dbksvd.generate.dim"), demo.getInt("dbksvd.generate.atoms"), demo.getInt("dbksvd.generate.k"),
        demo.getLong("dbksvd.generate.samples"), demo.getInt("dbksvd.fit.iterations"));
    SparkGenerate.run(demo, spark, data, truth, true, 0, Main.OUT);
    FitJob.run(demo, spark, data, model, true, false, Main.OUT, null);
    ObjectNode ev = SparkEvaluate.run(demo, spark, model, data, truth, report, null, Main.OUT);
    Main.OUT.println();
    Main.OUT.println("demo outputs in " + new File(dir).getAbsolutePath() + ":");
    Main.OUT.println("  data        " + data + "   (Parquet, column 'embedding')");
    Main.OUT.println("  truth       " + truth + "  (the planted dictionary)");
    Main.OUT.println("  model       " + model + "  (dictionary.npy, model.json, metrics.jsonl, report.html)");
    Main.OUT.println("  evaluation  " + report);
    Main.OUT.printf("recovered %.1f%% of the planted atoms; FVE %.4f%n", 100 * ev.get("recovery_rate").asDouble(),
        ev.get("fve").asDouble());
    return 0;
  }
}
