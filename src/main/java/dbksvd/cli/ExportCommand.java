package dbksvd.cli;

import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.io.AtomicDir;
import dbksvd.io.Export;
import dbksvd.io.ModelDir;
import dbksvd.spark.AtomUsage;
import dbksvd.spark.RowSource;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Map;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Write a model's dictionary as npy, safetensors (+ cfg.json), Parquet or a SAELens directory.")
final class ExportCommand extends SparkCommand {
  @Option(names = "--model", required = true, paramLabel = "MODEL_DIR", description = "a model directory of fit")
  String model;
  @Option(names = "--format", required = true, paramLabel = "npy|safetensors|parquet|saelens",
      description = "the layout (saelens: a matching_pursuit SAE directory for SAELens)")
  String format;
  @Option(names = "--output", required = true, paramLabel = "DIR", description = "the directory to write")
  String output;
  @Option(names = "--input", paramLabel = "DATA", description = "parquet: count each atom's usage over these rows")
  String input;
  @Option(names = "--column", paramLabel = "NAME", description = "the embedding column of --input") String column;
  @Option(names = "--overwrite", description = "replace an existing output") boolean overwrite;

  @Override
  Map<String, Object> flags() {
    return map("dbksvd.input.column", column);
  }

  @Override
  int run(Config c, SparkSession spark) throws Exception {
    Export.Format f = Export.Format.parse(format);
    if (input != null && f != Export.Format.PARQUET) {
      throw new IllegalArgumentException("--input (atom usage) applies to --format parquet only");
    }
    var hconf = spark.sparkContext().hadoopConfiguration();
    AtomicDir.checkTarget(hconf, output, overwrite);
    ModelDir.Model mdl = ModelDir.read(hconf, model);
    long[] usage = null;
    if (input != null) {
      RowSource source = RowSource.open(spark, input, c.getString("dbksvd.input.column"), Settings.zeroRows(c));
      usage = AtomUsage.count(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, mdl,
          c.getInt("dbksvd.encode.chunk"));
    }
    Export.write(spark, mdl, model, f, output, usage, overwrite);
    Main.OUT.printf("exported %s (d=%d, m=%d) as %s to %s%n", model, mdl.d(), mdl.m(), format, output);
    return 0;
  }
}
