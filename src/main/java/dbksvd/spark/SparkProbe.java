package dbksvd.spark;

import dbksvd.config.ZeroRows;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dbksvd.encode.SparseCodes;
import dbksvd.interpret.ClassMeans;
import dbksvd.io.ModelDir;
import dbksvd.util.Seeds;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * {@code evaluate --label-column}: k-sparse probing as in SAEBench. Every row is encoded once (codes kept, with
 * the embedding, for the probes). On the training split the atoms are ranked by how much their mean activation
 * differs between classes ({@link ClassMeans}: max over classes c of |mean_c − mean_rest|); for each k a
 * logistic-regression probe (Spark MLlib) is trained on the activations |x_j| of the top-k atoms and its accuracy
 * measured on the test split. The same probe on the raw embeddings gives the ceiling.
 *
 * <p>Split: with a split column, its value per row is {@code train} or {@code test} (any case); without one, a row
 * is in the test split when a hash of (seed, row) falls below the test fraction (seeded, the same for any
 * partitioning). Rows whose label is null are left out.
 */
public final class SparkProbe {
  private SparkProbe() {}

  /** What one encoded block keeps: labels (null: none), split, codes and embeddings. */
  static final class ProbeBlock implements Serializable {
    private static final long serialVersionUID = 1L;
    String[] label;
    boolean[] test;
    SparseCodes codes;
    float[] Y;
    int d;
  }

  public record Options(String labelColumn, String splitColumn, int[] ks, double testFraction, long seed) {}

  public static ObjectNode run(SparkSession spark, String input, String embedding, ZeroRows zeroRows,
      ModelDir.Model model, Options opt, int chunk) {
    if (opt.testFraction() <= 0 || opt.testFraction() >= 1) {
      throw new IllegalArgumentException("--test-fraction must be between 0 and 1, got " + opt.testFraction());
    }
    for (int k : opt.ks()) {
      if (k < 1) {
        throw new IllegalArgumentException("--probe-k values must be at least 1, got " + k);
      }
    }
    List<String> extra = new ArrayList<>(List.of(opt.labelColumn()));
    if (opt.splitColumn() != null) {
      extra.add(opt.splitColumn());
    }
    LabelledRows rows = LabelledRows.open(spark, input, embedding, extra, zeroRows);
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    boolean bySplitColumn = opt.splitColumn() != null;
    String splitName = opt.splitColumn();
    double testFraction = opt.testFraction();
    long seed = opt.seed();
    sc.setJobDescription("probe " + input);
    ModelEncoding enc = ModelEncoding.broadcast(sc, model.D(), model.d(), model.m(), model.params());
    int d = enc.d;
    int m = enc.m;
    JavaRDD<ProbeBlock> blocks = enc.foldPartitions(rows, chunk, ArrayList<ProbeBlock>::new, (out, b, coded) -> {
      ProbeBlock pb = new ProbeBlock();
      int n = b.n();
      pb.label = new String[n];
      pb.test = new boolean[n];
      for (int s = 0; s < n; s++) {
        Object[] v = b.values()[s];
        pb.label[s] = v[0] == null ? null : String.valueOf(v[0]);
        if (bySplitColumn) {
          pb.test[s] = isTest(v[1], splitName, rows.file(b.key()[s]), LabelledRows.rowIndex(b.key()[s]));
        } else {
          pb.test[s] = uniform(Seeds.derive(seed, SPLIT_PURPOSE, b.key()[s])) < testFraction;
        }
      }
      pb.codes = coded.codes;
      pb.Y = b.Y();
      pb.d = d;
      out.add(pb);
    }).flatMap(List::iterator).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<String> labels = blocks.flatMap(b -> Arrays.stream(b.label).filter(l -> l != null).distinct().iterator())
          .distinct().collect();
      if (labels.size() < 2) {
        throw new BadInputException("label column '" + opt.labelColumn() + "' has " + labels.size()
            + " distinct non-null value" + (labels.size() == 1 ? " (" + labels.get(0) + ")" : "s")
            + "; a probe needs at least 2 classes");
      }
      if (labels.size() > MAX_CLASSES) {
        throw new BadInputException("label column '" + opt.labelColumn() + "' has " + labels.size()
            + " distinct values; the probe takes at most " + MAX_CLASSES + " classes");
      }
      String[] classNames = labels.stream().sorted().toArray(String[]::new);
      Map<String, Integer> classOf = new HashMap<>();
      for (int c = 0; c < classNames.length; c++) {
        classOf.put(classNames[c], c);
      }
      int C = classNames.length;
      long[][] counts = blocks.map(b -> {
        long[][] n = new long[2][C];
        for (int s = 0; s < b.label.length; s++) {
          if (b.label[s] != null) {
            n[b.test[s] ? 1 : 0][classOf.get(b.label[s])]++;
          }
        }
        return n;
      }).reduce((a, b) -> {
        for (int i = 0; i < 2; i++) {
          for (int c = 0; c < C; c++) {
            a[i][c] += b[i][c];
          }
        }
        return a;
      });
      long train = Arrays.stream(counts[0]).sum();
      long test = Arrays.stream(counts[1]).sum();
      if (train == 0 || test == 0) {
        throw new BadInputException("the " + (train == 0 ? "train" : "test") + " split has no labelled rows"
            + (bySplitColumn ? " (split column '" + splitName + "')" : ""));
      }
      ClassMeans means = blocks.map(b -> {
        ClassMeans cm = new ClassMeans(m, C);
        SparseCodes codes = b.codes;
        for (int s = 0; s < b.label.length; s++) {
          if (b.label[s] != null && !b.test[s]) {
            int base = s * codes.capacity;
            cm.add(classOf.get(b.label[s]), codes.atom, codes.value, base, base + codes.count[s]);
          }
        }
        return cm;
      }).treeReduce(ClassMeans::merge, 2);
      double[] score = means.scores();
      int kMax = Arrays.stream(opt.ks()).max().orElse(1);
      int[] ranked = ClassMeans.topAtoms(score, Math.min(kMax, m));

      ObjectNode o = new ObjectMapper().createObjectNode();
      o.put("label_column", opt.labelColumn());
      o.put("classes", C);
      ArrayNode names = o.putArray("class_names");
      ObjectNode trainCounts = o.putObject("train_rows_per_class");
      ObjectNode testCounts = o.putObject("test_rows_per_class");
      long majority = 0;
      for (int c = 0; c < C; c++) {
        names.add(classNames[c]);
        trainCounts.put(classNames[c], counts[0][c]);
        testCounts.put(classNames[c], counts[1][c]);
        majority = Math.max(majority, counts[1][c]);
      }
      ObjectNode split = o.putObject("split");
      if (bySplitColumn) {
        split.put("method", "column");
        split.put("column", splitName);
      } else {
        split.put("method", "seeded");
        split.put("seed", seed);
        split.put("test_fraction", testFraction);
      }
      split.put("train_rows", train);
      split.put("test_rows", test);
      o.put("selection", "atoms ranked on the train split by max over classes of |mean_c - mean_rest| of their"
          + " activation");
      o.put("chance_accuracy", (double) majority / test);
      ArrayNode probes = o.putArray("probes");
      for (int k : opt.ks()) {
        int[] atoms = Arrays.copyOf(ranked, Math.min(k, ranked.length));
        double acc = accuracy(spark, blocks, classOf, atoms, false, C);
        ObjectNode pr = probes.addObject();
        pr.put("k", atoms.length);
        pr.put("accuracy", acc);
        ArrayNode at = pr.putArray("atoms");
        for (int j : atoms) {
          at.add(j);
        }
      }
      o.put("ceiling_accuracy", accuracy(spark, blocks, classOf, null, true, C));
      return o;
    } finally {
      blocks.unpersist(false);
      enc.close();
      sc.setJobDescription(null);
    }
  }

  static final int MAX_CLASSES = 1000;
  static final long SPLIT_PURPOSE = 0x70726f6265L; // "probe": not a purpose of the fit

  static double uniform(long h) {
    return (h >>> 11) * 0x1.0p-53;
  }

  static boolean isTest(Object v, String column, String file, long row) {
    String s = v == null ? null : String.valueOf(v).trim().toLowerCase(Locale.ROOT);
    if ("test".equals(s)) {
      return true;
    }
    if ("train".equals(s)) {
      return false;
    }
    throw new BadInputException("file " + file + " row " + row + ": split column '" + column + "' has value "
        + (v == null ? "null" : "'" + v + "'") + "; expected train or test");
  }

  static final StructType SCHEMA = new StructType()
      .add("label", DataTypes.DoubleType, false)
      .add("features", SQLDataTypes.VectorType(), false)
      .add("test", DataTypes.BooleanType, false);

  /** Trains the probe on the train split and returns its accuracy on the test split. */
  static double accuracy(SparkSession spark, JavaRDD<ProbeBlock> blocks, Map<String, Integer> classOf, int[] atoms,
      boolean raw, int classes) {
    JavaRDD<Row> rows = blocks.flatMap(b -> {
      List<Row> out = new ArrayList<>();
      for (int s = 0; s < b.label.length; s++) {
        if (b.label[s] == null) {
          continue;
        }
        double[] f;
        if (raw) {
          f = new double[b.d];
          for (int i = 0; i < b.d; i++) {
            f[i] = b.Y[s * b.d + i];
          }
        } else {
          f = new double[atoms.length];
          for (int i = 0; i < atoms.length; i++) {
            f[i] = Math.abs(b.codes.get(s, atoms[i])); // activation = |x_j|, see ClassMeans
          }
        }
        out.add(RowFactory.create((double) classOf.get(b.label[s]), Vectors.dense(f), b.test[s]));
      }
      return out.iterator();
    });
    Dataset<Row> df = spark.createDataFrame(rows, SCHEMA).cache();
    try {
      // a light L2 penalty (features standardised), as SAEBench's probes are regularised; it also keeps L-BFGS
      // short on separable classes, where the unpenalised weights would grow without end
      LogisticRegression lr = new LogisticRegression().setMaxIter(100).setRegParam(1e-3).setTol(1e-4) // tol: sklearn's default
          .setFamily(classes > 2 ? "multinomial" : "binomial");
      LogisticRegressionModel fitted = lr.fit(df.where(col("test").equalTo(false)));
      return new MulticlassClassificationEvaluator().setMetricName("accuracy")
          .evaluate(fitted.transform(df.where(col("test").equalTo(true))));
    } finally {
      df.unpersist();
    }
  }
}
