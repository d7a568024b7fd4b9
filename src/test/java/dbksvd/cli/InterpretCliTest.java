package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.interpret.ModelReport;
import dbksvd.spark.TestSpark;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * inspect, evaluate --label-column and report on planted data with labels (generate --labels): class c's rows all
 * use planted atom c, and each row's text names its planted atoms.
 */
class InterpretCliTest {
  @TempDir static Path tmp;
  static String data;
  static String truth;
  static String model;
  static final ObjectMapper JSON = new ObjectMapper();

  static String p(String name) {
    return tmp.resolve(name).toString();
  }

  static void ok(String... args) {
    Cli.Run r = Cli.run(args);
    assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.err());
  }

  @BeforeAll
  static void generateAndFit() {
    TestSpark.session();
    data = p("data");
    truth = p("truth");
    model = p("model");
    ok("generate", "--output", data, "--dim", "32", "--atoms", "48", "--k", "3", "--samples", "3000",
        "--partitions", "3", "--seed", "4", "--truth", truth, "--labels", "2");
    // a Matryoshka fit (groups of 16, 16, 16 atoms), so that the report has the per-group coherence too
    ok("fit", "--input", data, "--output", model, "--atoms", "48", "--k", "3", "--batch-size", "1000",
        "--iterations", "6", "--seed", "2", "--matryoshka", "4");
  }

  @Test
  void inspectTopRowsOfAPlantedAtomAreTheRowsPlantedWithIt() throws Exception {
    String out = p("inspect");
    ok("inspect", "--model", truth, "--input", data, "--text-column", "text", "--show-columns", "id,label",
        "--atoms", "0-47", "--top", "10", "--sample", "3", "--output", out);
    JsonNode o = JSON.readTree(new File(out, "atoms.json"));
    assertEquals(3000, o.path("rows").asLong());
    assertEquals(48, o.path("atoms").size());
    // the same top rows as a plain sort of every row's code (encode, collected here: the data is small)
    String codes = p("codes");
    ok("encode", "--model", truth, "--input", data, "--output", codes);
    Map<Integer, List<long[]>> byAtom = new HashMap<>(); // atom -> (id, |coef| bits)
    Map<Long, Double> coefOf = new HashMap<>();
    for (Row r : TestSpark.session().read().parquet(codes).select("id", "codes").collectAsList()) {
      SparseVector v = (SparseVector) r.get(1);
      for (int i = 0; i < v.indices().length; i++) {
        byAtom.computeIfAbsent(v.indices()[i], a -> new ArrayList<>()).add(new long[] {r.getLong(0),
            Double.doubleToLongBits(Math.abs(v.values()[i]))});
        coefOf.put(r.getLong(0) * 64 + v.indices()[i], v.values()[i]);
      }
    }
    for (JsonNode a : o.path("atoms")) {
      int j = a.path("atom").asInt();
      JsonNode top = a.path("top");
      assertEquals(10, top.size());
      // planted with it: the text of each top row names atom j, and rows of class j (j < 2) carry label j
      for (JsonNode row : top) {
        String text = row.path("values").path("text").asText();
        assertTrue(text.matches(".*\\batom " + j + " \\(.*"), "atom " + j + " top row: " + text);
        if (j < 2) {
          assertEquals(j, row.path("values").path("label").asInt());
        }
      }
      List<long[]> rows = byAtom.get(j);
      rows.sort(Comparator.<long[]>comparingDouble(e -> -Double.longBitsToDouble(e[1])));
      for (int i = 0; i < 10; i++) {
        long id = top.get(i).path("values").path("id").asLong();
        assertEquals(Double.longBitsToDouble(rows.get(i)[1]), Math.abs(top.get(i).path("coefficient").asDouble()),
            1e-6, "atom " + j + " place " + i);
        assertEquals(coefOf.get(id * 64 + j), top.get(i).path("coefficient").asDouble(), 1e-6);
      }
      assertEquals(rows.size(), a.path("usage_rows").asLong());
      assertEquals(rows.size() / 3000.0, a.path("usage_frequency").asDouble(), 1e-12);
      assertEquals(3, a.path("weaker").size());
      double weakest = Math.abs(top.get(9).path("coefficient").asDouble());
      for (JsonNode w : a.path("weaker")) {
        assertTrue(Math.abs(w.path("coefficient").asDouble()) <= weakest);
      }
      assertEquals(5, a.path("nearest").size());
    }
    // bad input: one line naming the problem, exit 2, nothing written
    String bad = p("inspect-bad");
    Cli.Run range = Cli.run("inspect", "--model", truth, "--input", data, "--atoms", "40-99", "--output", bad);
    assertEquals(2, range.code(), range.err());
    assertTrue(range.err().contains("--atoms 40-99 is outside the model's atoms 0..47"), range.err());
    Cli.Run column = Cli.run("inspect", "--model", truth, "--input", data, "--text-column", "title",
        "--output", bad);
    assertEquals(2, column.code(), column.err());
    assertTrue(column.err().contains("input has no column 'title'"), column.err());
    assertFalse(new File(bad).exists());
    Cli.Run exists = Cli.run("inspect", "--model", truth, "--input", data, "--output", out);
    assertEquals(2, exists.code(), exists.err());
    assertTrue(exists.err().contains("already exists; pass --overwrite"), exists.err());
    String html = Files.readString(Path.of(out, "index.html"));
    assertTrue(html.contains("id=\"atom-47\""));
    assertTrue(html.contains("oninput=\"filter(this.value)\""));
    assertTrue(html.contains(o.path("atoms").get(5).path("top").get(0).path("values").path("text").asText()));
  }

  @Test
  void probeOnTheMarkerAtomBeatsChance() throws Exception {
    String json = p("probe.json");
    // the planted dictionary as the model: atom c marks class c, so the top-1 atom alone should tell the classes
    ok("evaluate", "--model", truth, "--input", data, "--label-column", "label", "--probe-k", "1,4", "--json", json);
    JsonNode probe = JSON.readTree(new File(json)).path("probe");
    assertEquals(2, probe.path("classes").asInt());
    assertEquals("seeded", probe.path("split").path("method").asText());
    long test = probe.path("split").path("test_rows").asLong();
    assertEquals(3000, test + probe.path("split").path("train_rows").asLong());
    assertEquals(600, test, 60); // 20 % of 3000, seeded
    double chance = probe.path("chance_accuracy").asDouble();
    assertTrue(chance < 0.56, "classes are balanced: " + chance);
    JsonNode top1 = probe.path("probes").get(0);
    assertEquals(1, top1.path("k").asInt());
    int atom = top1.path("atoms").get(0).asInt();
    assertTrue(atom == 0 || atom == 1, "the top-1 atom is a class marker: " + atom);
    double acc1 = top1.path("accuracy").asDouble();
    assertTrue(acc1 > 0.85, "top-1 probe accuracy " + acc1 + " (chance " + chance + ")");
    assertEquals(4, probe.path("probes").get(1).path("atoms").size());
    assertTrue(probe.path("ceiling_accuracy").asDouble() > 0.85, "ceiling " + probe.path("ceiling_accuracy"));
    System.out.println("probe: " + probe);
  }

  @Test
  void probeBySplitColumnAndBadSplitValues() throws Exception {
    // a split column: rows with id < 2400 train, the rest test
    String withSplit = p("data-split");
    TestSpark.session().read().parquet(data).selectExpr("*", "if(id < 2400, 'train', 'TEST') as part")
        .write().parquet(withSplit);
    String json = p("probe-split.json");
    ok("evaluate", "--model", truth, "--input", withSplit, "--label-column", "label", "--split-column", "part",
        "--probe-k", "1", "--json", json);
    assertTrue(JSON.readTree(new File(json)).path("probe").path("probes").get(0).path("accuracy").asDouble() > 0.85);
    JsonNode probe = JSON.readTree(new File(json)).path("probe");
    assertEquals("column", probe.path("split").path("method").asText());
    assertEquals(600, probe.path("split").path("test_rows").asLong());
    String bad = p("data-badsplit");
    TestSpark.session().read().parquet(data).selectExpr("*", "if(id = 17, 'validation', 'train') as part")
        .coalesce(1).write().parquet(bad);
    Cli.Run r = Cli.run("evaluate", "--model", truth, "--input", bad, "--label-column", "label",
        "--split-column", "part");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("row 17: split column 'part' has value 'validation'; expected train or test"),
        r.err());
    Cli.Run noColumn = Cli.run("evaluate", "--model", truth, "--input", data, "--label-column", "topic");
    assertEquals(2, noColumn.code());
    assertTrue(noColumn.err().contains("input has no column 'topic'"), noColumn.err());
  }

  static final Pattern FIGURE = Pattern.compile("<figure id=\"([a-z0-9-]+)\"><img[^>]*src=\"data:image/png;base64,"
      + "([A-Za-z0-9+/=]+)\"");

  /** The figures of a report page: id to decoded image. */
  static Map<String, BufferedImage> figures(String html) throws Exception {
    Map<String, BufferedImage> out = new HashMap<>();
    Matcher mt = FIGURE.matcher(html);
    while (mt.find()) {
      out.put(mt.group(1), ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(mt.group(2)))));
    }
    return out;
  }

  /** Share of pixels that are not (near) white. */
  static double inkShare(BufferedImage img) {
    long ink = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y);
        int r = (rgb >> 16) & 255;
        int g = (rgb >> 8) & 255;
        int b = rgb & 255;
        if (r + g + b < 3 * 235) {
          ink++;
        }
      }
    }
    return (double) ink / ((long) img.getWidth() * img.getHeight());
  }

  @Test
  void fitWritesAReportWithEveryPlot() throws Exception {
    String html = Files.readString(Path.of(model, "report.html"));
    Map<String, BufferedImage> figs = figures(html);
    for (String id : List.of(ModelReport.FVE, ModelReport.RELATIVE_ERROR, ModelReport.L0, ModelReport.DEAD,
        ModelReport.COHERENCE, ModelReport.COHERENCE_GROUPS, ModelReport.USAGE, ModelReport.STAGES)) {
      BufferedImage img = figs.get(id);
      assertTrue(img != null, "figure " + id + " in the report");
      assertEquals(900, img.getWidth());
      assertEquals(420, img.getHeight());
      double ink = inkShare(img);
      assertTrue(ink > 0.01 && ink < 0.9, id + ": share of non-white pixels " + ink);
    }
    assertTrue(html.contains("counted on the batch of the last iteration, 1000 rows"), "usage from the fit itself");
    assertTrue(html.contains("<th>params.matryoshka</th><td>4</td>"));
    assertFalse(html.contains("src=\"http"), "self-contained");
    // the report command on the planted dictionary: no iterations, usage measured on all rows
    String rep = p("truth-report.html");
    ok("report", "--model", truth, "--input", data, "--output", rep);
    Map<String, BufferedImage> truthFigs = figures(Files.readString(Path.of(rep)));
    assertEquals(java.util.Set.of(ModelReport.COHERENCE, ModelReport.USAGE), truthFigs.keySet());
    Cli.Run missing = Cli.run("report", "--model", p("nope"), "--output", p("nope.html"));
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("does not exist"), missing.err());
    assertFalse(new File(p("nope.html")).exists());
  }

  /**
   * The report and the inspect page render in headless Chromium (bin/setup-chromium installs it; CI runs that):
   * a screenshot of each is mostly white page but holds text and charts. Skipped where Chromium is missing, except
   * under CI (CI=true), where a missing browser fails.
   */
  @Test
  void pagesRenderInHeadlessChromium() throws Exception {
    String chromium = findChromium();
    if (System.getenv("CI") == null) {
      assumeTrue(chromium != null, "chromium not installed (bin/setup-chromium installs it)");
    }
    assertTrue(chromium != null, "chromium not installed; .ci/run calls bin/setup-chromium");
    String inspect = p("inspect-render");
    ok("inspect", "--model", truth, "--input", data, "--text-column", "text", "--atoms", "0-9", "--output", inspect);
    for (Path page : List.of(Path.of(model, "report.html"), Path.of(inspect, "index.html"))) {
      Path png = tmp.resolve(page.getParent().getFileName() + "-shot.png");
      long t0 = System.nanoTime();
      Process proc = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu",
          "--hide-scrollbars", "--user-data-dir=" + tmp.resolve("chromium-profile"), "--screenshot=" + png,
          "--window-size=1200,2000", page.toUri().toString()).redirectErrorStream(true)
          .redirectOutput(tmp.resolve("chromium.log").toFile()).start();
      assertTrue(proc.waitFor(120, TimeUnit.SECONDS), "chromium finished");
      System.out.printf("chromium screenshot of %s in %.1f s%n", page, (System.nanoTime() - t0) / 1e9);
      BufferedImage shot = ImageIO.read(png.toFile());
      assertTrue(shot != null, "screenshot written: " + Files.readString(tmp.resolve("chromium.log")));
      assertEquals(1200, shot.getWidth());
      double ink = inkShare(shot);
      assertTrue(ink > 0.02 && ink < 0.8, page + ": share of non-white pixels in the screenshot " + ink);
    }
  }

  static String findChromium() {
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
        File f = new File(dir, name);
        if (f.canExecute()) {
          return f.getPath();
        }
      }
    }
    return null;
  }
}
