package dbksvd.ml;

import dbksvd.config.ZeroRows;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dbksvd.cli.Main;
import dbksvd.config.Settings;
import dbksvd.io.ModelDir;
import dbksvd.spark.BadInputException;
import dbksvd.spark.RowSource;
import dbksvd.spark.SparkGenerate;
import dbksvd.spark.TestSpark;
import dbksvd.synth.PlantedData;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The Spark ML API on a real local Spark: the estimator, the model, Pipelines, save and load. */
class DbKsvdTest {
  static final int D = 16, M = 24, K = 2;
  @TempDir static Path tmp;
  static SparkSession spark;
  static String data;

  @BeforeAll
  static void generate() throws Exception {
    spark = TestSpark.session();
    data = tmp.resolve("data").toString();
    SparkGenerate.write(spark, data, D, M, K, 1200, 40, 3, 3, false);
  }

  /** Codes by the id column. */
  static Map<Long, Vector> codes(Dataset<Row> df, String column) {
    Map<Long, Vector> out = new HashMap<>();
    for (Row r : df.select("id", column).collectAsList()) {
      out.put(r.getLong(0), (Vector) r.get(1));
    }
    return out;
  }

  /** The README's example: the estimator on a Parquet dataset, then codes for every row. */
  static DbKsvdModel readmeExample(SparkSession spark, String path, String dir) throws java.io.IOException {
    Dataset<Row> embeddings = spark.read().parquet(path);   // column "embedding": array<float>
    DbKsvd dbksvd = new DbKsvd()
        .setInputCol("embedding")
        .setOutputCol("codes")
        .setNumAtoms(24)       // m
        .setK(2)               // non-zeros per code
        .setBatchSize(500)     // n, samples per outer batch
        .setMaxIter(4)
        .setSeed(5);
    DbKsvdModel model = dbksvd.fit(embeddings);
    Dataset<Row> coded = model.transform(embeddings);   // + "codes": sparse vector of length m
    model.save(dir);                                     // DbKsvdModel.load(dir), or inside a PipelineModel
    assertEquals(1200, coded.count());
    assertArrayEquals(model.dictionary(), DbKsvdModel.load(dir).dictionary());
    return model;
  }

  @Test
  void estimatorOnParquetLearnsWhatTheFitCommandLearnsAndEncodesAlike() throws Exception {
    String cliModel = tmp.resolve("cli-model").toString();
    assertEquals(0, Main.execute("fit", "--input", data, "--output", cliModel, "--atoms", "24", "--k", "2",
        "--batch-size", "500", "--iterations", "4", "--seed", "5"));
    DbKsvdModel model = readmeExample(spark, data, tmp.resolve("readme-model").toString());
    ModelDir.Model cli = ModelDir.read(new Configuration(), cliModel);
    assertArrayEquals(cli.D(), model.dictionary(), "the estimator and fit --input learn the same D, bit for bit");
    assertEquals(4, model.trainingMetrics().size());
    assertEquals(D, model.dimension());
    assertEquals(M, model.atoms());

    // a projection of the scan (a VectorAssembler-like select) keeps the file-based row ids
    DbKsvdModel projected = new DbKsvd().setFitParams(cli.params())
        .fit(spark.read().parquet(data).select("embedding"));
    assertArrayEquals(cli.D(), projected.dictionary());

    // transform = encode: the CLI's codes, and a model directory opened as a Spark ML model gives them too
    String cliCodes = tmp.resolve("cli-codes").toString();
    assertEquals(0, Main.execute("encode", "--model", cliModel, "--input", data, "--output", cliCodes));
    Map<Long, Vector> want = codes(spark.read().parquet(cliCodes), "codes");
    Map<Long, Vector> got = codes(model.transform(spark.read().parquet(data)), "codes");
    assertEquals(1200, want.size());
    assertEquals(want, got);
    assertEquals(want, codes(DbKsvdModel.fromModelDir(spark, cliModel).transform(spark.read().parquet(data)),
        "codes"));
    for (Vector v : got.values()) {
      assertEquals(M, v.size());
      assertTrue(v.numNonzeros() >= 1 && v.numNonzeros() <= K, v.toString());
    }
  }

  /** Local rows (not files) with the embedding in x0..x{d-1}: the positional row ids. */
  static Dataset<Row> localColumns(PlantedData planted, int n) {
    float[] Y = planted.rows(0, n);
    StructType schema = new StructType().add("id", DataTypes.LongType);
    for (int i = 0; i < D; i++) {
      schema = schema.add("x" + i, DataTypes.DoubleType);
    }
    List<Row> rows = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      Object[] v = new Object[D + 1];
      v[0] = (long) s;
      for (int i = 0; i < D; i++) {
        v[i + 1] = (double) Y[s * D + i];
      }
      rows.add(RowFactory.create(v));
    }
    return spark.createDataFrame(rows, schema);
  }

  @Test
  void pipelineFitsSavesAndReloads() throws Exception {
    PlantedData planted = new PlantedData(D, M, K, Double.POSITIVE_INFINITY, 7);
    Dataset<Row> df = localColumns(planted, 1000);
    String[] cols = new String[D];
    for (int i = 0; i < D; i++) {
      cols[i] = "x" + i;
    }
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
        new VectorAssembler().setInputCols(cols).setOutputCol("features"),
        new DbKsvd().setInputCol("features").setOutputCol("codes").setNumAtoms(M).setK(K).setBatchSize(1000)
            .setMaxIter(6).setSeed(1)});
    PipelineModel fitted = pipeline.fit(df);
    Dataset<Row> coded = fitted.transform(df);
    assertEquals(List.of("id", "x0"), List.of(coded.columns()).subList(0, 2));
    assertEquals("codes", coded.columns()[coded.columns().length - 1]);

    String path = tmp.resolve("pipeline-model").toString();
    fitted.save(path);
    PipelineModel loaded = PipelineModel.load(path);
    DbKsvdModel before = (DbKsvdModel) fitted.stages()[1];
    DbKsvdModel after = (DbKsvdModel) loaded.stages()[1];
    assertArrayEquals(before.dictionary(), after.dictionary());
    assertEquals(before.uid(), after.uid());
    assertEquals(K, after.getK());
    assertEquals("features", after.getInputCol());
    Map<Long, Vector> want = codes(coded, "codes");
    assertEquals(1000, want.size());
    assertEquals(want, codes(loaded.transform(df), "codes"));

    // the codes reconstruct the planted data: D x ≈ y
    float[] Dm = after.dictionary();
    float[] Y = planted.rows(0, 1000);
    double sse = 0;
    double sst = 0;
    for (Map.Entry<Long, Vector> e : want.entrySet()) {
      int s = (int) (long) e.getKey();
      double[] r = new double[D];
      for (int i = 0; i < D; i++) {
        r[i] = Y[s * D + i];
        sst += r[i] * r[i];
      }
      SparseVector x = e.getValue().toSparse();
      for (int t = 0; t < x.indices().length; t++) {
        for (int i = 0; i < D; i++) {
          r[i] -= x.values()[t] * Dm[x.indices()[t] * D + i];
        }
      }
      for (int i = 0; i < D; i++) {
        sse += r[i] * r[i];
      }
    }
    assertTrue(1 - sse / sst > 0.9, "FVE " + (1 - sse / sst));

    // Spark's layout: metadata JSON (class, uid, params) and data/ Parquet, one row per atom
    Path stage;
    try (var s = Files.list(Path.of(path, "stages"))) {
      stage = s.filter(p -> p.getFileName().toString().startsWith("1_")).findFirst().orElseThrow();
    }
    Path metaFile;
    try (var s = Files.list(stage.resolve("metadata"))) {
      metaFile = s.filter(p -> p.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
    }
    JsonNode meta = new ObjectMapper().readTree(Files.readString(metaFile));
    assertEquals(DbKsvdModel.class.getName(), meta.get("class").asText());
    assertEquals(6, meta.at("/paramMap/maxIter").asInt());
    try (var s = Files.list(stage.resolve("data"))) { // read back above by PipelineModel.load
      assertEquals(1, s.filter(p -> p.getFileName().toString().endsWith(".parquet")).count());
    }

    // an unfitted pipeline round-trips its estimator's params
    String unfitted = tmp.resolve("pipeline").toString();
    pipeline.save(unfitted);
    DbKsvd est = (DbKsvd) Pipeline.load(unfitted).getStages()[1];
    assertEquals(1000, est.getBatchSize());
    assertEquals(1, est.getSeed());
  }

  @Test
  void localRowsAreNumberedByPositionAsTheirParquetCopyIsByFile() {
    PlantedData planted = new PlantedData(D, M, K, 30, 9);
    int n = 900;
    float[] Y = planted.rows(0, n);
    StructType schema = new StructType().add("id", DataTypes.LongType)
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType));
    List<Row> rows = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      List<Float> v = new ArrayList<>();
      for (int i = 0; i < D; i++) {
        v.add(Y[s * D + i]);
      }
      rows.add(RowFactory.create((long) s, v));
    }
    // local rows come in defaultParallelism (2) partitions, in a fixed order (unlike after a repartition's shuffle)
    Dataset<Row> local = spark.createDataFrame(rows, schema);
    RowSource src = RowSource.open(spark, local, "embedding", ZeroRows.REFUSE);
    assertEquals(n, src.rows);
    assertEquals(D, src.d);

    // the same rows in the same order, as one Parquet file: the file-based ids are the same, so is the fit
    String copy = tmp.resolve("local-copy").toString();
    local.coalesce(1).write().parquet(copy);
    DbKsvd est = new DbKsvd().setNumAtoms(M).setK(K).setBatchSize(300).setMaxIter(3).setSeed(2);
    assertArrayEquals(est.fit(spark.read().parquet(copy)).dictionary(), est.fit(local).dictionary());
    // the same values as a float32 binary column (positional ids too): the same dictionary
    List<Row> binRows = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      binRows.add(RowFactory.create((long) s, dbksvd.spark.EmbeddingColumn.bytesFromFloats(Y, s * D, D)));
    }
    Dataset<Row> localBinary = spark.createDataFrame(binRows,
        new StructType().add("id", DataTypes.LongType).add("embedding", DataTypes.BinaryType));
    assertArrayEquals(est.fit(local).dictionary(), est.fit(localBinary).dictionary());

    // a bad value is named by partition and row
    rows.set(0, RowFactory.create(0L, new ArrayList<>(List.of(1f, 2f, 3f, Float.NaN, 0f, 0f, 0f, 0f, 0f, 0f, 0f,
        0f, 0f, 0f, 0f, 0f))));
    Dataset<Row> bad = spark.createDataFrame(rows, schema);
    Exception e = assertThrows(Exception.class, () -> est.fit(bad));
    assertEquals("partition 0 row 0: column 'embedding' has NaN at position 3", BadInputException.find(e));
  }

  /** The "file" of the first row as RowSource numbers it: a Parquet file, or a partition for positional ids. */
  static String firstFile(Dataset<Row> df, String column) {
    RowSource src = RowSource.open(spark, df, column, ZeroRows.REFUSE);
    return src.rdd().map(r -> r.getUTF8String(1).toString()).first();
  }

  @Test
  void fileScansKeepFileIdsThroughProjections() {
    Dataset<Row> local = localColumns(new PlantedData(D, M, K, 30, 4), 200);
    String[] cols = new String[D];
    for (int i = 0; i < D; i++) {
      cols[i] = "x" + i;
    }
    VectorAssembler assembler = new VectorAssembler().setInputCols(cols).setOutputCol("features");
    assertEquals("partition 0", firstFile(assembler.transform(local), "features"));
    String copy = tmp.resolve("columns").toString();
    local.write().parquet(copy);
    assertTrue(firstFile(assembler.transform(spark.read().parquet(copy)), "features").startsWith("file:"));
    assertTrue(firstFile(spark.read().parquet(data).select("embedding"), "embedding").startsWith("file:"));
    // a filtered scan no longer numbers each file's rows 0..count-1: positional ids
    assertEquals("partition 0", firstFile(spark.read().parquet(data).where("id % 2 = 0"), "embedding"));
  }

  @Test
  void paramsDefaultToReferenceConfAndAreChecked() {
    DbKsvd est = new DbKsvd();
    assertEquals(Settings.fitParams(ConfigFactory.defaultReference()), est.fitParams());
    assertEquals("embedding", est.getInputCol());
    assertEquals("codes", est.getOutputCol());
    assertThrows(IllegalArgumentException.class, () -> est.setK(0));
    assertThrows(IllegalArgumentException.class, () -> est.setEncoder("lasso"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> est.setNumAtoms(8).setK(9).fitParams());
    assertEquals("k = 9 exceeds the number of atoms m = 8", e.getMessage());
    assertTrue(est.explainParams().contains("numAtoms"));
    DbKsvd copy = est.copy(new org.apache.spark.ml.param.ParamMap().put(est.k(), 3));
    assertEquals(3, copy.getK());
    assertEquals(9, est.getK());
    Exception col = assertThrows(Exception.class, () -> est.setInputCol("vec")
        .transformSchema(new StructType().add("embedding", DataTypes.StringType)));
    assertTrue(col.getMessage().startsWith("input has no column 'vec'"), col.getMessage());
  }
}
