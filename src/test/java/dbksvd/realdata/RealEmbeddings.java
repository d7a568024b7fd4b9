package dbksvd.realdata;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.ConfigFactory;
import dbksvd.io.AtomicDir;
import dbksvd.spark.EmbeddingColumn;
import dbksvd.spark.Sessions;
import dbksvd.util.Seeds;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the real-embedding benchmark: token states of a small sentence model (all-MiniLM-L6-v2, d = 384, from a
 * Maven artifact) over the manual pages of Debian packages, as Parquet for dbksvd, with a held-out split by
 * document. Run it with bin/real-embeddings (docs/benchmarks.md, "Real embeddings: the dataset").
 *
 * <p>Steps: the corpus's sorted document names are shuffled with the seed; documents are rendered and tokenized in
 * that order, the first ones filling the held-out split and the next ones the training split (each document cut
 * at --max-doc-tokens and, the last of a split, at the split's remaining rows), so no document is in both and the
 * held-out split does not depend on --rows. The splits' documents are cut into files of about --rows-per-file
 * rows; each file is one Spark task that reads its documents in windows ({@link TokenWindows}) through the model
 * ({@link TokenStates}) and writes one row per token. A row's values depend only on its document and the settings,
 * never on the threads or the file cut, and the files get fixed names and footers in a fixed order
 * ({@link StableParquet}), so a rebuild gives the same bytes (on the same CPU kind: ONNX Runtime picks its kernels
 * by instruction set).
 *
 * <p>DIR/train and DIR/heldout: {@code id} long (the row number dbksvd gives the row), {@code embedding}
 * array&lt;float&gt; (d = 384; or binary float32 little-endian with --format binary), {@code text} (the token in
 * its context, e.g. "… cleanup stack frame LIBRARY Standard C [library] (libc, -lc) SYNOPSIS int sigreturn(...);
 * DESCRIPTION …"), {@code doc} (e.g. "man2/sigreturn.2"), {@code token} (the WordPiece, e.g. "library" or "##rno"),
 * {@code position} int (the token's index in the document).
 * DIR/manifest.json records the model, its artifact, the pooling, the source and the settings.
 */
@Command(name = "real-embeddings", mixinStandardHelpOptions = true, sortOptions = false,
    version = "dbksvd real-embeddings (manifest format dbksvd-real-embeddings, version 1)",
    description = "Build Parquet token embeddings of a sentence model over Debian manual pages, with a held-out "
        + "split by document (docs/benchmarks.md).")
public final class RealEmbeddings implements Callable<Integer> {
  /** Seeds purpose of the document order (beside those of dbksvd.util.Seeds). */
  static final long DOC_ORDER = 101;

  @Option(names = "--output", required = true, paramLabel = "DIR",
      description = "output directory: DIR/train, DIR/heldout, DIR/manifest.json")
  String output;
  @Option(names = "--rows", paramLabel = "N", description = "rows of the training split (default ${DEFAULT-VALUE})")
  long rows = 500_000;
  @Option(names = "--heldout", paramLabel = "N", description = "rows of the held-out split (default ${DEFAULT-VALUE})")
  long heldout = 65_536;
  @Option(names = "--source", paramLabel = "PKG", split = ",",
      description = "Debian packages whose manual pages are the text (default manpages,manpages-dev)")
  List<String> source = List.of("manpages", "manpages-dev");
  @Option(names = "--text", paramLabel = "DIR", description = "instead of --source: a directory of .txt files")
  String text;
  @Option(names = "--threads", paramLabel = "T", description = "Spark task slots, one model run each (default: cores)")
  int threads = Runtime.getRuntime().availableProcessors();
  @Option(names = "--seed", paramLabel = "SEED",
      description = "document order, hence the split (default ${DEFAULT-VALUE})")
  long seed = 0;
  @Option(names = "--window", paramLabel = "L", description = "tokens per model run, [CLS] and [SEP] included "
      + "(default ${DEFAULT-VALUE})")
  int window = 128;
  @Option(names = "--stride", paramLabel = "S", description = "tokens between window starts (default ${DEFAULT-VALUE})")
  int stride = 64;
  @Option(names = "--max-doc-tokens", paramLabel = "N", description = "tokens taken from one document at most, so "
      + "that many documents share the rows (default ${DEFAULT-VALUE})")
  int maxDocTokens = 2048;
  @Option(names = "--rows-per-file", paramLabel = "N", description = "rows per Parquet file, about (default "
      + "${DEFAULT-VALUE})")
  int rowsPerFile = 32_768;
  @Option(names = "--format", paramLabel = "array|binary", description = "embedding column: array<float> or binary "
      + "float32 little-endian (default ${DEFAULT-VALUE})")
  String format = "array";
  @Option(names = "--context-words", paramLabel = "W", description = "words either side of the token in the text "
      + "column (default ${DEFAULT-VALUE})")
  int contextWords = 6;
  @Option(names = "--overwrite", description = "replace an existing DIR") boolean overwrite;

  /** Bad input or usage: one line, exit 2. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  /** What a build did, for the summary line and the tests. */
  record Summary(long trainRows, long heldoutRows, int trainDocs, int heldoutDocs, int trainFiles, int heldoutFiles,
      double seconds) {}

  public static void main(String[] args) {
    // DJL looks for CUDA when it loads the tokenizer's native library and warns when it finds a runtime without a
    // driver; the tokenizer runs on the CPU either way
    org.apache.logging.log4j.core.config.Configurator.setLevel("ai.djl", org.apache.logging.log4j.Level.ERROR);
    System.exit(execute(args));
  }

  /** Runs the command line; returns the exit code (0, 2 for bad input or usage, 1 for anything else). */
  static int execute(String... args) {
    CommandLine cl = new CommandLine(new RealEmbeddings());
    cl.setParameterExceptionHandler((ex, a) -> {
      System.err.println("real-embeddings: error: " + ex.getMessage());
      return 2;
    });
    cl.setExecutionExceptionHandler((ex, c, parsed) -> {
      if (ex instanceof Refused || ex instanceof IOException) {
        System.err.println("real-embeddings: error: " + ex.getMessage());
        return 2;
      }
      System.err.println("real-embeddings: error: " + ex);
      ex.printStackTrace();
      return 1;
    });
    return cl.execute(args);
  }

  @Override
  public Integer call() throws IOException {
    SparkSession spark = Sessions.start(ConfigFactory.parseMap(Map.of(
        "dbksvd.spark.master", "local[" + Math.max(1, threads) + "]",
        "dbksvd.spark.app-name", "real-embeddings",
        "dbksvd.spark.ui", false)).withFallback(ConfigFactory.defaultReference()));
    Summary s = build(spark, this);
    System.out.printf(Locale.ROOT, "real-embeddings: %s: train %d rows (%d documents, %d files), heldout %d rows "
            + "(%d documents, %d files), %.1f s, %.0f rows/s%n", output, s.trainRows(), s.trainDocs(),
        s.trainFiles(), s.heldoutRows(), s.heldoutDocs(), s.heldoutFiles(), s.seconds(),
        (s.trainRows() + s.heldoutRows()) / s.seconds());
    return 0;
  }

  /** The settings as flags would give them, for callers in the same JVM (the tests). */
  static RealEmbeddings settings(String... args) {
    RealEmbeddings r = new RealEmbeddings();
    new CommandLine(r).parseArgs(args);
    return r;
  }

  /** Builds the dataset on a running Spark session. */
  static Summary build(SparkSession spark, RealEmbeddings s) throws IOException {
    long t0 = System.nanoTime();
    s.validate();
    Corpus corpus = s.text != null ? new Corpus.TextDirectory(java.nio.file.Path.of(s.text)) : new ManPages(s.source);
    Path target = new Path(s.output);
    FileSystem fs = target.getFileSystem(spark.sparkContext().hadoopConfiguration());
    AtomicDir.checkTarget(fs, target, s.overwrite);

    List<String> names = corpus.names();
    Split[] splits = s.split(corpus, names);
    Split held = splits[0];
    Split train = splits[1];
    System.out.printf(Locale.ROOT, "real-embeddings: %d documents in the source; heldout %d, train %d documents "
        + "chosen (%.1f s)%n", names.size(), held.docs.size(), train.docs.size(), (System.nanoTime() - t0) / 1e9);
    int[] files = new int[2];
    AtomicDir.write(fs, target, s.overwrite, tmp -> {
      files[0] = s.write(spark, held, new Path(tmp, "heldout"));
      files[1] = s.write(spark, train, new Path(tmp, "train"));
      s.writeManifest(fs, new Path(tmp, "manifest.json"), corpus, train, held, files);
    });
    return new Summary(train.rows, held.rows, train.docs.size(), held.docs.size(), files[1], files[0],
        (System.nanoTime() - t0) / 1e9);
  }

  private void validate() {
    if (rows < 1 || heldout < 1) {
      throw new Refused("--rows and --heldout must be at least 1, got " + rows + " and " + heldout);
    }
    if (window < 3 || window > TokenStates.MAX_LENGTH) {
      throw new Refused("--window must be 3 to " + TokenStates.MAX_LENGTH + " (with [CLS] and [SEP]), got " + window);
    }
    if (stride < 1 || stride > window - 2) {
      throw new Refused("--stride must be 1 to window - 2 = " + (window - 2) + ", got " + stride);
    }
    if (maxDocTokens < 1 || rowsPerFile < 1 || contextWords < 0 || threads < 1) {
      throw new Refused("--max-doc-tokens, --rows-per-file and --threads must be at least 1, --context-words at "
          + "least 0");
    }
    if (!format.equals("array") && !format.equals("binary")) {
      throw new Refused("--format must be array or binary, got '" + format + "'");
    }
  }

  /** The documents of one split in order, each with the number of its tokens taken, and their row count. */
  static final class Split {
    final List<String> docs = new ArrayList<>();
    final List<String> texts = new ArrayList<>();
    final List<Integer> tokens = new ArrayList<>();
    long rows;
  }

  /**
   * Renders and tokenizes documents in the seeded order (a few at once) until the held-out split, then the training
   * split, have their rows.
   */
  private Split[] split(Corpus corpus, List<String> names) throws IOException {
    int[] order = Seeds.permutation(names.size(), Seeds.rng(seed, DOC_ORDER));
    Split held = new Split();
    Split train = new Split();
    long available = 0;
    int read = 0;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      int chunk = 4 * threads;
      for (int i = 0; i < order.length && train.rows < rows; i += chunk) {
        List<Future<Object[]>> docs = new ArrayList<>();
        for (int j = i; j < Math.min(order.length, i + chunk); j++) {
          String name = names.get(order[j]);
          docs.add(pool.submit(() -> {
            String t = corpus.text(name);
            return new Object[] {name, t, WordPieces.shared().tokenize(t).size()};
          }));
        }
        for (Future<Object[]> f : docs) {
          Object[] doc = get(f);
          read++;
          int n = (Integer) doc[2];
          available += Math.min(n, maxDocTokens);
          Split into = held.rows < heldout ? held : train.rows < rows ? train : null;
          if (into == null || n == 0) {
            continue;
          }
          int take = (int) Math.min(Math.min(n, maxDocTokens), (into == held ? heldout : rows) - into.rows);
          into.docs.add((String) doc[0]);
          into.texts.add((String) doc[1]);
          into.tokens.add(take);
          into.rows += take;
        }
      }
    } finally {
      pool.shutdownNow();
    }
    if (train.rows < rows) {
      throw new Refused(String.format(Locale.ROOT, "the source holds %d tokens in %d documents (at most %d from "
          + "each), fewer than --heldout + --rows = %d; add packages to --source or raise --max-doc-tokens",
          available, read, maxDocTokens, heldout + rows));
    }
    return new Split[] {held, train};
  }

  private static Object[] get(Future<Object[]> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * One output file's work: consecutive documents of a split and the id of its first row. A plain class (not a
   * record): Spark ships it with Kryo, which cannot set a record's fields.
   */
  static final class Part implements Serializable {
    private static final long serialVersionUID = 1L;
    long firstId;
    String[] docs;
    String[] texts;
    int[] tokens;
  }

  static List<Part> parts(Split split, int rowsPerFile) {
    List<Part> parts = new ArrayList<>();
    int from = 0;
    long id = 0;
    long rowsIn = 0;
    for (int i = 0; i < split.docs.size(); i++) {
      rowsIn += split.tokens.get(i);
      if (rowsIn >= rowsPerFile || i == split.docs.size() - 1) {
        Part p = new Part();
        p.firstId = id;
        p.docs = split.docs.subList(from, i + 1).toArray(String[]::new);
        p.texts = split.texts.subList(from, i + 1).toArray(String[]::new);
        p.tokens = split.tokens.subList(from, i + 1).stream().mapToInt(Integer::intValue).toArray();
        parts.add(p);
        id += rowsIn;
        rowsIn = 0;
        from = i + 1;
      }
    }
    return parts;
  }

  static StructType schema(boolean binary) {
    return new StructType()
        .add("id", DataTypes.LongType, false)
        .add("embedding", binary ? DataTypes.BinaryType : DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("text", DataTypes.StringType, false)
        .add("doc", DataTypes.StringType, false)
        .add("token", DataTypes.StringType, false)
        .add("position", DataTypes.IntegerType, false);
  }

  /** Rows embedded so far in this JVM (the progress line of a local build). */
  static final AtomicLong EMBEDDED = new AtomicLong();

  /** Writes one split as Parquet files part-00000.snappy.parquet, …; returns the number of files. */
  private int write(SparkSession spark, Split split, Path dir) throws IOException {
    List<Part> parts = parts(split, rowsPerFile);
    final int content = window - 2;
    final int step = stride;
    final int words = contextWords;
    final boolean binary = format.equals("binary");
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    JavaRDD<InternalRow> data = sc.parallelize(parts, parts.size())
        .flatMap(p -> new PartRows(p, content, step, words, binary));
    sc.setJobDescription("real-embeddings " + dir.getName() + ": " + split.rows + " rows");
    Thread progress = progress(dir.getName(), split.rows);
    long t0 = System.nanoTime();
    try {
      ((org.apache.spark.sql.classic.SparkSession) spark).internalCreateDataFrame(data.rdd(), schema(binary), false)
          .write().parquet(dir.toString());
    } finally {
      progress.interrupt();
      sc.setJobDescription(null);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "real-embeddings: %s: %d rows in %d files, %.1f s, %.0f rows/s%n", dir.getName(),
        split.rows, parts.size(), seconds, split.rows / seconds);
    // fixed names (Spark's carry a random UUID) and footers in a fixed order, so that a rebuild gives the same bytes
    FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
    Pattern part = Pattern.compile("part-(\\d+)-.*?-c\\d+(\\..*)?\\.parquet");
    int files = 0;
    for (FileStatus f : fs.listStatus(dir)) {
      Matcher m = part.matcher(f.getPath().getName());
      if (m.matches()) {
        String name = "part-" + m.group(1) + (m.group(2) == null ? "" : m.group(2)) + ".parquet";
        StableParquet.copy(fs, f.getPath(), new Path(dir, name));
        fs.delete(f.getPath(), false);
        files++;
      }
    }
    return files;
  }

  /** A daemon printing the rows embedded every 30 s while a local build runs. */
  private static Thread progress(String split, long total) {
    long start = EMBEDDED.get();
    long t0 = System.nanoTime();
    Thread t = new Thread(() -> {
      try {
        while (true) {
          Thread.sleep(30_000);
          long done = EMBEDDED.get() - start;
          double s = (System.nanoTime() - t0) / 1e9;
          System.out.printf(Locale.ROOT, "real-embeddings: %s %d / %d rows, %.0f s, %.0f rows/s%n", split, done,
              total, s, done / s);
        }
      } catch (InterruptedException e) {
        // the split is written
      }
    }, "real-embeddings-progress");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** The rows of one part: its documents' tokens, window by window. */
  static final class PartRows implements Iterator<InternalRow> {
    private final Part part;
    private final int content;
    private final int stride;
    private final int words;
    private final boolean binary;
    private int doc = -1;
    private long id;
    private WordPieces.Tokens tokens;
    private List<TokenWindows.Window> windows;
    private int w;
    private float[] states;
    private int t;

    PartRows(Part part, int content, int stride, int words, boolean binary) {
      this.part = part;
      this.content = content;
      this.stride = stride;
      this.words = words;
      this.binary = binary;
      this.id = part.firstId;
    }

    @Override
    public boolean hasNext() {
      while (states == null || t >= windows.get(w).emitTo()) {
        if (windows != null && w + 1 < windows.size()) {
          w++;
        } else if (doc + 1 < part.docs.length) {
          doc++;
          tokens = WordPieces.shared().tokenize(part.texts[doc]);
          if (tokens.size() < part.tokens[doc]) {
            throw new IllegalStateException(part.docs[doc] + ": " + tokens.size() + " tokens, the plan counted "
                + part.tokens[doc]);
          }
          windows = TokenWindows.plan(part.tokens[doc], content, stride);
          w = 0;
        } else {
          return false;
        }
        TokenWindows.Window win = windows.get(w);
        states = TokenStates.shared().states(tokens.ids(), win.start(), win.end());
        t = win.emitFrom();
      }
      return true;
    }

    @Override
    public InternalRow next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      TokenWindows.Window win = windows.get(w);
      int off = (t - win.start()) * TokenStates.D;
      Object embedding = binary ? EmbeddingColumn.bytesFromFloats(states, off, TokenStates.D)
          : UnsafeArrayData.fromPrimitiveArray(Arrays.copyOfRange(states, off, off + TokenStates.D));
      String text = Snippet.around(part.texts[doc], tokens.start()[t], tokens.end()[t], words);
      InternalRow row = new GenericInternalRow(new Object[] {id++, embedding, UTF8String.fromString(text),
          UTF8String.fromString(part.docs[doc]), UTF8String.fromString(tokens.pieces()[t]), t});
      t++;
      EMBEDDED.incrementAndGet();
      return row;
    }
  }

  private void writeManifest(FileSystem fs, Path file, Corpus corpus, Split train, Split held, int[] files)
      throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", "dbksvd-real-embeddings");
    m.put("version", 1);
    m.put("model", TokenStates.MODEL);
    m.put("artifact", TokenStates.ARTIFACT + ":" + TokenStates.artifactVersion());
    m.put("model_resource", TokenStates.RESOURCE);
    m.put("model_sha256", TokenStates.shared().modelSha256());
    m.put("tokenizer_resource", WordPieces.RESOURCE);
    m.put("tokenizer_sha256", TokenStates.resourceSha256(WordPieces.RESOURCE));
    m.put("runtime", "ONNX Runtime " + TokenStates.shared().runtimeVersion() + " (Java), CPU, 1 intra-op thread");
    m.put("d", TokenStates.D);
    m.put("pooling", "none: one row per WordPiece token, its last_hidden_state (the model's output before the "
        + "sentence-transformers mean pooling and normalisation), not normalised; [CLS], [SEP] and padding left out");
    Map<String, Object> w = new LinkedHashMap<>(); // not Map.of: its order changes from one JVM to the next
    w.put("length", window);
    w.put("stride", stride);
    w.put("note", "length includes [CLS] and [SEP]; each token is taken from the window whose centre is nearest "
        + "(TokenWindows)");
    m.put("window", w);
    m.put("max_doc_tokens", maxDocTokens);
    m.put("seed", seed);
    m.put("source", corpus.describe());
    m.put("embedding_format", format.equals("binary") ? "binary float32 little-endian" : "array<float>");
    m.put("columns", List.of("id", "embedding", "text", "doc", "token", "position"));
    m.put("context_words", contextWords);
    m.put("heldout", splitInfo(held, files[0]));
    m.put("train", splitInfo(train, files[1]));
    byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(m);
    try (FSDataOutputStream out = fs.create(file, false)) {
      out.write(json);
      out.write("\n".getBytes(StandardCharsets.UTF_8));
    }
  }

  private static Map<String, Object> splitInfo(Split split, int files) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rows", split.rows);
    m.put("files", files);
    m.put("documents", split.docs.size());
    m.put("document_names", split.docs);
    m.put("tokens_per_document", split.tokens);
    return m;
  }
}
