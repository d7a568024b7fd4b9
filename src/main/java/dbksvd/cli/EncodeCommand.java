package dbksvd.cli;

import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.io.ModelDir;
import dbksvd.spark.SparkEncode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Map;

@Command(name = "encode", mixinStandardHelpOptions = true,
    description = "Sparse codes for every row, as a Spark ML vector column, to Parquet.")
final class EncodeCommand extends SparkCommand {
  @Option(names = "--model", required = true, paramLabel = "MODEL_DIR", description = "a model directory of fit")
  String model;
  @Option(names = "--input", required = true, paramLabel = "DATA", description = "Parquet dataset of embeddings")
  String input;
  @Option(names = "--output", required = true, paramLabel = "CODES", description = "the Parquet dataset to write")
  String output;
  @Option(names = "--column", paramLabel = "NAME", description = "the embedding column") String column;
  @Option(names = "--overwrite", description = "replace an existing output") boolean overwrite;
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
    ModelDir.Model read = ModelDir.read(spark.sparkContext().hadoopConfiguration(), model);
    ModelDir.Model mdl = read.withEncoder(Settings.encoderFor(c, read.params().encoder()));
    String codes = c.getString("dbksvd.encode.output-column");
    long rows = SparkEncode.run(spark, mdl, input, c.getString("dbksvd.input.column"), output, codes,
        c.getInt("dbksvd.encode.chunk"), overwrite, Settings.zeroRows(c));
    Main.OUT.printf("encoded %d rows into %s (column '%s', encoder %s, k %d, rtol %s)%n", rows, output, codes,
        mdl.params().encoder().name(), mdl.params().k(), mdl.params().rtol());
    return 0;
  }
}
