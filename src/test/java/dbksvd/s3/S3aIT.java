package dbksvd.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.cli.Cli;
import dbksvd.io.ModelDir;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * {@code s3a://} end to end against a real S3 API server on 127.0.0.1 (S3Proxy, its own JVM): the command line, in
 * this JVM as bin/dbksvd runs it, generates a dataset into a bucket, fits from it, writes the model back to the
 * bucket and evaluates the model read from there; every check reads the bucket through s3a. The
 * credentials reach Hadoop only through its provider chain (here SimpleAWSCredentialsProvider, the keys set as
 * {@code spark.hadoop.fs.s3a.*} in a --conf file) and appear in no output.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3aIT {
  static final String BUCKET = "dbksvd-test";
  static final String ACCESS_KEY = "AKIA" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
  static final String SECRET_KEY = "secret-" + UUID.randomUUID();
  static final String[] GEN = {"--dim", "16", "--atoms", "24", "--k", "3", "--samples", "2000", "--partitions", "2",
      "--snr-db", "30", "--seed", "7"};
  // batch 1000 of 2000 rows: two batches per epoch, so the epoch staging shuffle runs too; a checkpoint at 5
  static final String[] FIT = {"--atoms", "24", "--k", "3", "--batch-size", "1000", "--iterations", "6",
      "--seed", "3"};

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) static Path tmp;
  static S3Proxy s3;
  static Path conf;
  static final List<String> seen = new ArrayList<>(); // everything the commands printed


  @BeforeAll
  static void startS3AndWriteLocalReference() throws Exception {
    // never ask the EC2 instance metadata service for anything (region and credentials are all set below)
    System.setProperty("aws.disableEc2Metadata", "true");
    s3 = S3Proxy.start(Files.createDirectories(tmp.resolve("s3")), ACCESS_KEY, SECRET_KEY);
    createBucket();
    conf = tmp.resolve("s3.conf");
    Files.writeString(conf, String.join("\n",
        "dbksvd.spark.master = \"local[2]\"",
        "dbksvd.spark.ui = false",
        "dbksvd.spark.conf {",
        "  \"spark.hadoop.fs.s3a.endpoint\" = \"" + s3.endpoint() + "\"",
        "  \"spark.hadoop.fs.s3a.endpoint.region\" = \"us-east-1\"",
        "  \"spark.hadoop.fs.s3a.path.style.access\" = true",
        "  \"spark.hadoop.fs.s3a.connection.ssl.enabled\" = false",
        "  \"spark.hadoop.fs.s3a.aws.credentials.provider\" = "
            + "\"org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider\"",
        "  \"spark.hadoop.fs.s3a.access.key\" = \"" + ACCESS_KEY + "\"",
        "  \"spark.hadoop.fs.s3a.secret.key\" = \"" + SECRET_KEY + "\"",
        "}") + "\n");
    // the same data and fit on the local file system: the reference the s3a run must reproduce bit for bit
    String localData = tmp.resolve("local-data").toString();
    assertOk(run(concat(new String[] {"generate", "--output", localData}, GEN)), "local generate");
    assertOk(run(concat(new String[] {"fit", "--input", localData, "--output", tmp.resolve("local-model")
        .toString()}, FIT)), "local fit");
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  static String s3a(String key) {
    return "s3a://" + BUCKET + "/" + key;
  }

  @Test
  @Order(1)
  void generateFitEvaluateThroughS3() throws Exception {
    assertOk(run(concat(new String[] {"generate", "--output", s3a("data")}, GEN)), "generate to s3a");
    // the objects are in the server's store, not anywhere else
    assertEquals(2, listS3("data").stream().filter(n -> n.endsWith(".parquet")).count(),
        "two Parquet objects under " + s3a("data") + ": " + listS3("data"));

    Cli.Run fit = run(concat(new String[] {"fit", "--input", s3a("data"), "--output", s3a("models/run1")}, FIT));
    assertOk(fit, "fit from s3a to s3a");
    assertTrue(fit.out().contains("iteration 6/6"), fit.out());
    assertArrayEquals(Files.readAllBytes(tmp.resolve("local-model/dictionary.npy")),
        readS3("models/run1/dictionary.npy"), "the s3a fit equals the local fit bit for bit");
    assertEquals(6, lines(readS3("models/run1/metrics.jsonl")));
    // committed by renames on s3a: no temporary directory, no checkpoint left beside the model
    assertEquals(List.of("run1"), listS3("models"));

    // read back through s3a, by dbksvd's own reader and by evaluate
    ModelDir.Model mdl = ModelDir.read(hadoopConf(), s3a("models/run1"));
    assertEquals(16, mdl.d());
    assertEquals(24, mdl.m());
    Cli.Run ev = run("evaluate", "--model", s3a("models/run1"), "--input", s3a("data"), "--json", s3a("eval.json"),
        "--conf", conf.toString());
    assertOk(ev, "evaluate from s3a");
    JsonNode o = new ObjectMapper().readTree(readS3("eval.json"));
    assertEquals(2000, o.get("rows").asLong());
    assertTrue(o.get("fve").asDouble() > 0.5, o.toString());
    assertEquals(s3a("models/run1"), o.get("model").asText());
  }

  @Test
  @Order(2)
  void existingModelOnS3IsKeptWithoutOverwriteAndReplacedWithIt() throws Exception {
    String dict = "models/run1/dictionary.npy";
    byte[] before = readS3(dict);
    String[] again = concat(new String[] {"fit", "--input", s3a("data"), "--output", s3a("models/run1")}, FIT);
    Cli.Run refused = run(again);
    assertEquals(2, refused.code(), refused.err());
    assertTrue(refused.err().contains("output " + s3a("models/run1") + " already exists"), refused.err());
    assertArrayEquals(before, readS3(dict));

    String[] other = {"--atoms", "24", "--k", "3", "--iterations", "2", "--seed", "9", "--overwrite"};
    assertOk(run(concat(new String[] {"fit", "--input", s3a("data"), "--output", s3a("models/run1")}, other)),
        "fit --overwrite on s3a");
    assertFalse(Arrays.equals(before, readS3(dict)), "the model was replaced");
    assertEquals(2, lines(readS3("models/run1/metrics.jsonl")));
    assertEquals(List.of("run1"), listS3("models"), "the old model moved aside and the temporary directory are gone");
  }

  @Test
  @Order(3)
  void wrongSecretIsOneLineWithoutTheSecret() throws IOException {
    String wrong = "wrong-" + UUID.randomUUID();
    Path badConf = tmp.resolve("bad.conf");
    Files.writeString(badConf, Files.readString(conf).replace(SECRET_KEY, wrong));
    String out = s3a("models/never");
    // a new S3A client for this run (Hadoop caches file systems per bucket and user within a JVM)
    Cli.Run r = run("fit", "--input", s3a("data"), "--output", out, "--conf", badConf.toString(), "--set",
        "dbksvd.spark.conf.\"spark.hadoop.fs.s3a.impl.disable.cache\"=true");
    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> l.startsWith("dbksvd: error:")).toList();
    assertEquals(1, lines.size(), r.err());
    assertTrue(lines.get(0).contains("s3a://" + BUCKET) && lines.get(0).contains("403"), r.err());
    assertFalse(r.err().contains(wrong) || r.out().contains(wrong), "the secret was printed");
    assertEquals(List.of("run1"), listS3("models"));
  }

  @Test
  @Order(4)
  void credentialsAppearInNoOutput() throws IOException {
    List<String> leaks = new ArrayList<>();
    for (int i = 0; i < seen.size(); i++) {
      if (seen.get(i).contains(SECRET_KEY) || seen.get(i).contains(ACCESS_KEY)) {
        leaks.add("command output " + i);
      }
    }
    org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(s3a(""));
    var files = root.getFileSystem(hadoopConf()).listFiles(root, true);
    int objects = 0;
    while (files.hasNext()) {
      String key = files.next().getPath().toUri().getPath().substring(1);
      String text = new String(readS3(key), StandardCharsets.ISO_8859_1);
      objects++;
      if (text.contains(SECRET_KEY) || text.contains(ACCESS_KEY) || key.contains(SECRET_KEY)
          || key.contains(ACCESS_KEY)) {
        leaks.add(key);
      }
    }
    assertTrue(objects >= 6, "objects checked: " + objects);
    assertTrue(seen.size() >= 6, "outputs checked: " + seen.size());
    assertTrue(leaks.isEmpty(), "credentials found in " + leaks);
  }

  /**
   * The names under a prefix as an S3 client sees them (through s3a). The store's directory may keep empty folders
   * where objects were deleted; S3 has no folders, so those are no concern of a client.
   */
  static List<String> listS3(String key) throws IOException {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(s3a(key));
    FileSystem fs = p.getFileSystem(hadoopConf());
    return Arrays.stream(fs.listStatus(p)).map(st -> st.getPath().getName()).sorted().toList();
  }

  static byte[] readS3(String key) throws IOException {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(s3a(key));
    try (var in = p.getFileSystem(hadoopConf()).open(p)) {
      return in.readAllBytes();
    }
  }

  static long lines(byte[] text) {
    return new String(text, StandardCharsets.UTF_8).lines().count();
  }

  /** Creates the bucket through the S3 API, with the AWS SDK v2 client hadoop-aws brings. */
  static void createBucket() {
    try (var client = software.amazon.awssdk.services.s3.S3Client.builder()
        .endpointOverride(java.net.URI.create(s3.endpoint()))
        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
        .forcePathStyle(true)
        .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
            software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build()) {
      client.createBucket(b -> b.bucket(BUCKET));
    }
  }

  /** A Hadoop configuration with the same s3a settings the commands get through spark.hadoop.*. */
  static Configuration hadoopConf() {
    Configuration c = new Configuration();
    c.set("fs.s3a.endpoint", s3.endpoint());
    c.set("fs.s3a.endpoint.region", "us-east-1");
    c.set("fs.s3a.path.style.access", "true");
    c.set("fs.s3a.connection.ssl.enabled", "false");
    c.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    c.set("fs.s3a.access.key", ACCESS_KEY);
    c.set("fs.s3a.secret.key", SECRET_KEY);
    return c;
  }

  static String[] concat(String[] a, String[] b) {
    String[] r = Arrays.copyOf(a, a.length + b.length + 2);
    System.arraycopy(b, 0, r, a.length, b.length);
    r[r.length - 2] = "--conf";
    r[r.length - 1] = conf.toString();
    return r;
  }

  /** Runs a command line in this JVM (everything it printed is kept for the credential check). */
  static Cli.Run run(String... args) {
    Cli.Run r = Cli.run(args);
    seen.add(r.out() + r.err());
    return r;
  }

  static void assertOk(Cli.Run r, String what) {
    assertEquals(0, r.code(), () -> what + " failed:\n" + r.err() + "\nS3Proxy log tail:\n" + tail(s3.log()));
  }

  static String tail(String s) {
    List<String> lines = s.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
  }
}
