package dbksvd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * deploy/ as a user takes it: every JSON and YAML file parses, the Airflow DAGs compile with python3, the
 * spark-submit scripts print (--dry-run) the command line they would run, and every dbksvd command line written
 * in these files is accepted by dbksvd's own parser.
 */
class DeployTest {
  static final Path DEPLOY = Path.of(System.getProperty("basedir", System.getProperty("user.dir")), "deploy");
  @TempDir Path tmp;

  /** Parses a dbksvd command line as the CLI does (flags, types, required options); returns the command's name. */
  static String parses(List<String> args) {
    try {
      CommandLine.ParseResult r = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
      assertTrue(r.hasSubcommand(), "no dbksvd command in " + args);
      return r.subcommand().commandSpec().name();
    } catch (CommandLine.ParameterException e) {
      throw new AssertionError("dbksvd refuses " + args + ": " + e.getMessage(), e);
    }
  }

  static List<Path> files(String... extensions) throws IOException {
    try (Stream<Path> s = Files.walk(DEPLOY)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> Arrays.stream(extensions).anyMatch(e -> p.getFileName().toString().endsWith(e))).sorted()
          .toList();
    }
  }

  @Test
  void everyJsonFileParses() throws IOException {
    List<Path> json = files(".json");
    assertTrue(json.size() >= 2, json.toString());
    for (Path p : json) {
      try {
        new ObjectMapper().readTree(p.toFile());
      } catch (IOException e) {
        throw new AssertionError(p + " is not valid JSON: " + e.getMessage(), e);
      }
    }
  }

  @Test
  void databricksJobFitsThenEvaluatesTheModelItWrote() throws IOException {
    JsonNode job = new ObjectMapper().readTree(DEPLOY.resolve("databricks/job.json").toFile());
    JsonNode tasks = job.get("tasks");
    assertEquals(2, tasks.size());
    List<List<String>> params = new ArrayList<>();
    for (JsonNode t : tasks) {
      assertEquals("dbksvd.cli.Main", t.at("/spark_jar_task/main_class_name").asText());
      List<String> args = new ArrayList<>();
      t.at("/spark_jar_task/parameters").forEach(a -> args.add(a.asText()));
      params.add(args);
      assertEquals(t.get("task_key").asText(), parses(args));
      assertEquals("1", job.at("/job_clusters/0/new_cluster/spark_conf/spark.executorEnv.OPENBLAS_NUM_THREADS")
          .asText());
    }
    assertEquals("fit", tasks.get(1).at("/depends_on/0/task_key").asText());
    assertEquals(after(params.get(0), "--output"), after(params.get(1), "--model"));
  }

  @Test
  void everyYamlFileParsesAndTheSparkApplicationRunsAValidFit() throws IOException {
    List<Path> yaml = files(".yaml", ".yml");
    assertFalse(yaml.isEmpty());
    Map<String, Object> app = null;
    for (Path p : yaml) {
      try (InputStream in = Files.newInputStream(p)) {
        for (Object doc : new Yaml().loadAll(in)) {
          @SuppressWarnings("unchecked")
          Map<String, Object> m = (Map<String, Object>) doc;
          if ("SparkApplication".equals(m.get("kind"))) {
            app = m;
          }
        }
      } catch (RuntimeException e) {
        throw new AssertionError(p + " is not valid YAML: " + e.getMessage(), e);
      }
    }
    assertTrue(app != null, "no SparkApplication in " + yaml);
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) app.get("spec");
    assertEquals("dbksvd.cli.Main", spec.get("mainClass"));
    @SuppressWarnings("unchecked")
    List<String> args = (List<String>) spec.get("arguments");
    assertEquals("fit", parses(args));
    @SuppressWarnings("unchecked")
    Map<String, Object> conf = (Map<String, Object>) spec.get("sparkConf");
    assertEquals("1", conf.get("spark.executorEnv.OPENBLAS_NUM_THREADS"));
  }

  @Test
  void airflowDagsCompileAndRunFitThenEvaluate() throws Exception {
    List<Path> dags = files(".py");
    assertEquals(2, dags.size(), dags.toString());
    Path helper = tmp.resolve("dag_args.py");
    try (InputStream in = DeployTest.class.getResourceAsStream("dag_args.py")) {
      Files.write(helper, in.readAllBytes());
    }
    for (Path dag : dags) {
      Py compile = python("-m", "py_compile", dag.toString());
      assertEquals(0, compile.code(), dag + " does not compile:\n" + compile.out());
      Py read = python(helper.toString(), dag.toString());
      assertEquals(0, read.code(), read.out());
      JsonNode o = new ObjectMapper().readTree(read.out());
      assertEquals("[[\"fit\",\"evaluate\"]]", o.get("order").toString(), dag.toString());
      List<String> fit = strings(o.at("/args/FIT_ARGS"));
      List<String> evaluate = strings(o.at("/args/EVALUATE_ARGS"));
      assertEquals("fit", parses(fit), dag.toString());
      assertEquals("evaluate", parses(evaluate), dag.toString());
      assertEquals(after(fit, "--output"), after(evaluate, "--model"), dag.toString());
    }
  }

  record Py(int code, String out) {}

  /** python3 (it must be there: bin/setup-notebooks installs it in CI), with its byte code kept out of deploy/. */
  Py python(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("python3"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PYTHONPYCACHEPREFIX", tmp.resolve("pycache").toString());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError("python3 is not installed (bin/setup-notebooks installs it)", e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Py(p.waitFor(), out);
  }

  record Sh(int code, String out, String err) {}

  Sh script(String name, Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", DEPLOY.resolve("spark-submit").resolve(name).toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("SPARK_") || k.equals("DBKSVD_JAR") || k.equals("IMAGE")
        || k.equals("K8S_MASTER") || k.equals("UPLOAD_PATH") || k.equals("MASTER") || k.equals("BACKEND")
        || k.startsWith("RAPIDS_") || k.equals("GPUS_PER_EXECUTOR") || k.matches("(NUM_)?EXECUTOR_.*|DRIVER_.*"));
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Sh(p.waitFor(), out, err);
  }

  /** The dry run's one line, split back into arguments (the test's arguments have no spaces or quotes). */
  static List<String> words(String line) {
    return Arrays.asList(line.trim().split(" "));
  }

  @Test
  void yarnScriptSubmitsInClusterModeWithTheConfFileAndTheSizing() throws Exception {
    Path conf = Files.writeString(tmp.resolve("my.conf"), "dbksvd.fit.k = 20\n");
    Sh r = script("yarn.sh", Map.of("DBKSVD_JAR", "/jars/dbksvd.jar", "SPARK_SUBMIT", "/opt/spark/bin/spark-submit"),
        "--dry-run", "--conf-file", conf.toString(), "fit", "--input", "s3a://b/emb", "--output", "s3a://b/m1",
        "--atoms", "4096");
    assertEquals(0, r.code(), r.err());
    List<String> w = words(r.out());
    assertEquals("/opt/spark/bin/spark-submit", w.get(0));
    assertEquals("yarn", after(w, "--master"));
    assertEquals("cluster", after(w, "--deploy-mode"));
    assertEquals("dbksvd.cli.Main", after(w, "--class"));
    assertEquals(conf.toString(), after(w, "--files"));
    assertEquals("6g", after(w, "--executor-memory"));
    assertEquals("2", after(w, "--executor-cores"));
    assertEquals("4g", after(w, "--driver-memory"));
    assertTrue(w.contains("spark.executorEnv.OPENBLAS_NUM_THREADS=1"), r.out());
    assertTrue(w.contains("spark.executor.memoryOverhead=1g"), r.out());
    int jar = w.indexOf("/jars/dbksvd.jar");
    assertTrue(jar > 0, r.out());
    List<String> dbksvd = w.subList(jar + 1, w.size());
    assertEquals("fit", parses(dbksvd));
    assertEquals("my.conf", after(dbksvd, "--conf"), "the shipped file, by its name in the working directory");
  }

  @Test
  void gpuScriptAsksSparkForGpusAndSuppliesRapidsAtSubmit() throws Exception {
    Path conf = Files.writeString(tmp.resolve("gpu.conf"), "dbksvd.fit.k = 20\n");
    Sh r = script("gpu.sh", Map.of("DBKSVD_JAR", "/jars/dbksvd-cuda.jar", "EXECUTOR_CORES", "4"), "--dry-run",
        "--conf-file", conf.toString(), "fit", "--input", "s3a://b/emb", "--output", "s3a://b/m1");
    assertEquals(0, r.code(), r.err());
    List<String> w = words(r.out().replace("\\,", ","));
    assertEquals("yarn", after(w, "--master"));
    assertEquals("cluster", after(w, "--deploy-mode"));
    assertTrue(after(w, "--packages").startsWith("com.nvidia:rapids-4-spark_2.13:25."), r.out());
    assertTrue(w.contains("spark.plugins=com.nvidia.spark.SQLPlugin"), r.out());
    assertTrue(w.contains("spark.executor.resource.gpu.amount=1"), r.out());
    assertTrue(w.contains("spark.task.resource.gpu.amount=0.25"), "1 GPU shared by 4 task slots: " + r.out());
    assertTrue(w.contains("spark.executor.resource.gpu.discoveryScript=./get-gpus.sh"), r.out());
    assertTrue(w.contains("spark.dbksvd.gemm.backend=auto"), r.out());
    // one --files carries both the conf file and the discovery script
    assertEquals(1, w.stream().filter("--files"::equals).count(), r.out());
    String files = after(w, "--files");
    assertTrue(files.startsWith(conf + ",") && files.endsWith("deploy/gpu/get-gpus.sh"), files);
    List<String> dbksvd = w.subList(w.indexOf("/jars/dbksvd-cuda.jar") + 1, w.size());
    assertEquals("fit", parses(dbksvd));

    Sh jar = script("gpu.sh", Map.of("DBKSVD_JAR", "/j.jar", "RAPIDS_JAR", "/opt/rapids.jar", "BACKEND", "cuda",
        "MASTER", "spark://h:7077"), "--dry-run", "encode", "--model", "m", "--input", "d", "--output", "c");
    List<String> v = words(jar.out());
    assertEquals("/opt/rapids.jar", after(v, "--jars"));
    assertFalse(v.contains("--packages") || v.contains("--queue"), jar.out());
    assertTrue(v.contains("spark.dbksvd.gemm.backend=cuda"), jar.out());
  }

  /** The discovery script turns nvidia-smi's GPU list into Spark's resource JSON, and fails without a driver. */
  @Test
  void gpuDiscoveryScriptPrintsSparkResourceJson() throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("fake-bin"));
    Path smi = Files.writeString(bin.resolve("nvidia-smi"), "#!/bin/sh\nprintf '0\\n1\\n 2\\n'\n");
    smi.toFile().setExecutable(true);
    Path script = DEPLOY.resolve("gpu").resolve("get-gpus.sh");
    Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String none = new String(p.getInputStream().readAllBytes());
    boolean driverHere = Files.exists(Path.of("/dev/nvidiactl"));
    if (!driverHere) {
      assertEquals(1, p.waitFor(), none);
      assertTrue(none.contains("nvidia-smi not found"), none);
    }
    ProcessBuilder pb = new ProcessBuilder("bash", script.toString());
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    Process q = pb.start();
    q.getOutputStream().close();
    String json = new String(q.getInputStream().readAllBytes());
    assertEquals(0, q.waitFor(), json);
    var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
    assertEquals("gpu", node.get("name").asText());
    assertEquals("[\"0\",\"1\",\"2\"]", node.get("addresses").toString());
  }

  @Test
  void yarnScriptTakesTheSizingFromTheEnvironment() throws Exception {
    Sh r = script("yarn.sh", Map.of("DBKSVD_JAR", "/jars/dbksvd.jar", "EXECUTOR_MEMORY", "12g", "NUM_EXECUTORS",
        "3"), "--dry-run", "evaluate", "--model", "m", "--input", "d");
    assertEquals(0, r.code(), r.err());
    List<String> w = words(r.out());
    assertEquals("12g", after(w, "--executor-memory"));
    assertTrue(w.contains("spark.executor.instances=3"), r.out());
    assertFalse(w.contains("--files"), r.out());
    assertEquals("evaluate", parses(w.subList(w.indexOf("/jars/dbksvd.jar") + 1, w.size())));
  }

  @Test
  void k8sScriptUsesTheImageAndItsJarAndNeedsAnUploadPathForTheConfFile() throws Exception {
    Map<String, String> env = Map.of("K8S_MASTER", "https://127.0.0.1:6443", "IMAGE", "reg/dbksvd:1");
    Sh r = script("k8s.sh", env, "--dry-run", "fit", "--input", "s3a://b/emb", "--output", "s3a://b/m1");
    assertEquals(0, r.code(), r.err());
    List<String> w = words(r.out());
    assertEquals("k8s://https://127.0.0.1:6443", after(w, "--master"));
    assertEquals("cluster", after(w, "--deploy-mode"));
    assertTrue(w.contains("spark.kubernetes.container.image=reg/dbksvd:1"), r.out());
    assertTrue(w.contains("spark.executorEnv.OPENBLAS_NUM_THREADS=1"), r.out());
    int jar = w.indexOf("local:///opt/dbksvd/dbksvd.jar");
    assertTrue(jar > 0, "the jar inside the image of deploy/kubernetes/Dockerfile: " + r.out());
    assertEquals("fit", parses(w.subList(jar + 1, w.size())));

    Path conf = Files.writeString(tmp.resolve("k.conf"), "dbksvd.fit.k = 8\n");
    Sh refused = script("k8s.sh", env, "--dry-run", "--conf-file", conf.toString(), "fit", "--input", "x",
        "--output", "y");
    assertEquals(2, refused.code());
    assertTrue(refused.err().contains("UPLOAD_PATH"), refused.err());
    assertEquals("", refused.out());

    Map<String, String> withUpload = new java.util.HashMap<>(env);
    withUpload.put("UPLOAD_PATH", "s3a://b/upload");
    Sh ok = script("k8s.sh", withUpload, "--dry-run", "--conf-file", conf.toString(), "fit", "--input", "x",
        "--output", "y");
    assertEquals(0, ok.code(), ok.err());
    List<String> w2 = words(ok.out());
    assertTrue(w2.contains("spark.kubernetes.file.upload.path=s3a://b/upload"), ok.out());
    assertEquals(conf.toString(), after(w2, "--files"));
    assertEquals("k.conf", after(w2.subList(w2.indexOf("local:///opt/dbksvd/dbksvd.jar"), w2.size()), "--conf"));
  }

  @Test
  void scriptsRefuseAMissingCommandOrConfFile() throws Exception {
    Sh none = script("yarn.sh", Map.of(), "--dry-run");
    assertEquals(2, none.code());
    assertTrue(none.err().contains("no dbksvd command"), none.err());
    Sh missing = script("yarn.sh", Map.of(), "--dry-run", "--conf-file", tmp.resolve("nope.conf").toString(), "fit");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("nope.conf does not exist"), missing.err());
  }

  static String after(List<String> words, String flag) {
    int i = words.indexOf(flag);
    assertTrue(i >= 0 && i + 1 < words.size(), flag + " missing in " + words);
    return words.get(i + 1);
  }

  static List<String> strings(JsonNode array) {
    assertTrue(array.isArray(), "not a list: " + array);
    List<String> l = new ArrayList<>();
    array.forEach(a -> l.add(a.asText()));
    return l;
  }
}
