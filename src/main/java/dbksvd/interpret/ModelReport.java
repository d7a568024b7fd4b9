package dbksvd.interpret;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.encode.AtomGroups;
import dbksvd.io.ModelDir;
import dbksvd.metrics.DictionaryMetrics;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code report}: one self-contained HTML file (charts embedded as base64 PNG, drawn headless with JFreeChart)
 * about a model: FVE, relative error, L0 and dead atoms per iteration (metrics.jsonl), the coherence histogram of D
 * (per-atom max |dᵢᵀdⱼ|, the DB-KSVD paper's Figure 2; for Matryoshka models also per group, within the group), the
 * distribution of atom usage (log scale, when usage was measured), the seconds per stage of each iteration, and the
 * run's parameters.
 */
public final class ModelReport {
  static {
    System.setProperty("java.awt.headless", "true");
  }

  static final int WIDTH = 900;
  static final int HEIGHT = 420;
  /** The figure ids, in page order (each an {@code <figure id=…>} holding one PNG). */
  public static final String FVE = "fve";
  public static final String RELATIVE_ERROR = "relative-error";
  public static final String L0 = "l0";
  public static final String DEAD = "dead-atoms";
  public static final String COHERENCE = "coherence";
  public static final String COHERENCE_GROUPS = "coherence-groups";
  public static final String USAGE = "usage";
  public static final String STAGES = "stage-seconds";

  private ModelReport() {}

  /** Atom usage measured on some rows: usage[j] rows used atom j out of {@code rows}; {@code source} says where. */
  public record Usage(long[] usage, long rows, String source) {}

  public static String html(String name, ModelDir.Model model, List<String> metricsLines, Usage usage)
      throws IOException {
    ObjectMapper om = new ObjectMapper();
    List<JsonNode> metrics = new ArrayList<>();
    for (String l : metricsLines) {
      metrics.add(om.readTree(l));
    }
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(InspectPage.esc("dbksvd report: " + name)).append("</title>\n<style>")
        .append("body{font-family:sans-serif;margin:1.5em;color:#222;max-width:960px}")
        .append("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px;")
        .append("text-align:left}figure{margin:1em 0}figcaption{font-size:13px;color:#444}img{border:1px solid #ddd}")
        .append("</style></head><body>\n<h1>").append(InspectPage.esc("dbksvd report: " + name)).append("</h1>\n");
    h.append("<p>d = ").append(model.d()).append(", m = ").append(model.m()).append(", k = ")
        .append(model.params().k()).append(", ").append(metrics.size()).append(" iterations recorded.</p>\n");

    h.append("<h2>Per iteration</h2>\n");
    if (metrics.isEmpty()) {
      h.append("<p>metrics.jsonl holds no iterations (a planted or imported dictionary): no per-iteration "
          + "charts.</p>\n");
    } else {
      figure(h, FVE, line("FVE per iteration", "FVE", metrics, "fve"),
          "Fraction of variance explained on each iteration's outer batch, coded with the dictionary that entered "
              + "the iteration.");
      figure(h, RELATIVE_ERROR, line("Relative error per iteration", "mean |y − Dx| / |y|", metrics,
          "relative_error"), "Mean relative reconstruction error on the outer batch.");
      figure(h, L0, line("L0 per iteration", "mean non-zeros per code", metrics, "mean_l0"),
          "Mean number of non-zero coefficients per code.");
      figure(h, DEAD, line("Dead atoms per iteration", "atoms", metrics, "dead_atoms", "replaced_atoms"),
          "Atoms no sample of the outer batch used (dead), and atoms re-drawn after the update (replaced).");
    }

    double[] coherence = DictionaryMetrics.perAtomCoherence(model.D(), model.d(), 0, model.m());
    h.append("<h2>Dictionary</h2>\n");
    figure(h, COHERENCE, histogram("Coherence of D: per-atom max |dᵢᵀdⱼ|", "max over j ≠ i of |dᵢᵀdⱼ|",
        Map.of("all atoms", coherence), 50, 0, 1), String.format("Histogram over the %d atoms of each atom's "
            + "largest |cosine| with another atom (max %.3f, mean %.3f).", model.m(),
        DictionaryMetrics.coherence(coherence), DictionaryMetrics.mean(coherence)));
    AtomGroups groups = model.groups();
    if (groups.count() > 1) {
      Map<String, double[]> perGroup = new LinkedHashMap<>();
      for (int g = 0; g < groups.count(); g++) {
        int a0 = groups.start()[g];
        int mg = groups.size(g);
        double[] c = DictionaryMetrics.perAtomCoherence(model.D(), model.d(), a0, mg);
        perGroup.put("group " + g + " (atoms " + a0 + "–" + (a0 + mg - 1) + ")", c);
      }
      figure(h, COHERENCE_GROUPS, histogram("Coherence per Matryoshka group", "max over j ≠ i in the group of "
          + "|dᵢᵀdⱼ|", perGroup, 50, 0, 1), "Each group's atoms against the other atoms of the same group.");
    }
    if (usage != null && usage.rows() > 0) {
      List<Double> logFreq = new ArrayList<>();
      int dead = 0;
      for (long u : usage.usage()) {
        if (u == 0) {
          dead++;
        } else {
          logFreq.add(Math.log10((double) u / usage.rows()));
        }
      }
      double[] lf = logFreq.stream().mapToDouble(Double::doubleValue).toArray();
      double lo = Math.floor(lf.length == 0 ? -1 : java.util.Arrays.stream(lf).min().getAsDouble());
      figure(h, USAGE, histogram("Atom usage", "log10(share of rows whose code uses the atom)",
          Map.of("used atoms", lf), 40, Math.min(lo, -1), 0), String.format("Usage frequency of the %d used atoms "
              + "on a log scale; %d atoms unused (%s, %d rows).", lf.length, dead, usage.source(), usage.rows()));
    } else {
      h.append("<p id=\"usage-note\">Atom usage: not measured (").append(InspectPage.esc(usage == null
          ? "no data given; dbksvd report --input DATA measures it" : usage.source())).append(").</p>\n");
    }
    if (!metrics.isEmpty()) {
      h.append("<h2>Time</h2>\n");
      figure(h, STAGES, stages(metrics), "Wall seconds per stage of each iteration (stacked).");
    }
    h.append("<h2>Parameters</h2>\n<table>\n");
    ModelDir.paramsToJson(model.params()).fields().forEachRemaining(f -> row(h, "params." + f.getKey(), f.getValue()));
    Iterator<Map.Entry<String, JsonNode>> it = model.info().fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("metrics") || e.getKey().equals("params")) { // params: above, from the model itself
        continue;
      }
      if (e.getValue().isObject()) {
        e.getValue().fields().forEachRemaining(f -> row(h, e.getKey() + "." + f.getKey(), f.getValue()));
      } else {
        row(h, e.getKey(), e.getValue());
      }
    }
    h.append("</table>\n</body></html>\n");
    return h.toString();
  }

  private static void row(StringBuilder h, String key, JsonNode v) {
    h.append("<tr><th>").append(InspectPage.esc(key)).append("</th><td>")
        .append(InspectPage.esc(v.isTextual() ? v.asText() : v.toString())).append("</td></tr>\n");
  }

  private static void figure(StringBuilder h, String id, JFreeChart chart, String caption) throws IOException {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
    h.append("<figure id=\"").append(id).append("\"><img alt=\"").append(InspectPage.esc(chart.getTitle().getText()))
        .append("\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
        .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png.toByteArray()))
        .append("\"><figcaption>").append(InspectPage.esc(caption)).append("</figcaption></figure>\n");
  }

  private static JFreeChart line(String title, String yLabel, List<JsonNode> metrics, String... fields) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (String f : fields) {
      XYSeries s = new XYSeries(f);
      for (JsonNode m : metrics) {
        JsonNode v = m.path(f);
        if (v.isNumber()) {
          s.add(m.path("iteration").asInt() + 1, v.asDouble());
        }
      }
      data.addSeries(s);
    }
    JFreeChart c = ChartFactory.createXYLineChart(title, "iteration", yLabel, data, PlotOrientation.VERTICAL,
        fields.length > 1, false, false);
    style(c.getXYPlot());
    c.getXYPlot().getDomainAxis().setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    var range = (NumberAxis) c.getXYPlot().getRangeAxis();
    range.setAutoRangeIncludesZero(true);
    if (data.getRangeUpperBound(false) <= 0) { // all zeros (e.g. no dead atoms): show 0..1, not ±1e-9
      range.setRange(0, 1);
    }
    if (fields[0].endsWith("atoms")) {
      range.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    }
    c.setBackgroundPaint(Color.WHITE);
    return c;
  }

  /** White background, light grid lines, thicker lines. */
  private static void style(XYPlot plot) {
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    for (int i = 0; i < plot.getSeriesCount(); i++) {
      plot.getRenderer().setSeriesStroke(i, new java.awt.BasicStroke(2f));
    }
  }

  private static JFreeChart histogram(String title, String xLabel, Map<String, double[]> series, int bins,
      double min, double max) {
    HistogramDataset data = new HistogramDataset();
    for (Map.Entry<String, double[]> e : series.entrySet()) {
      if (e.getValue().length > 0) {
        data.addSeries(e.getKey(), e.getValue(), bins, min, max);
      }
    }
    JFreeChart c = ChartFactory.createHistogram(title, xLabel, "atoms", data, PlotOrientation.VERTICAL,
        series.size() > 1, false, false);
    c.setBackgroundPaint(Color.WHITE);
    XYPlot plot = c.getXYPlot();
    style(plot);
    plot.getRangeAxis().setStandardTickUnits(NumberAxis.createIntegerTickUnits()); // counts of atoms
    plot.setForegroundAlpha(series.size() > 1 ? 0.6f : 1f);
    XYBarRenderer r = (XYBarRenderer) plot.getRenderer();
    r.setBarPainter(new StandardXYBarPainter());
    r.setShadowVisible(false);
    return c;
  }

  private static JFreeChart stages(List<JsonNode> metrics) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (JsonNode m : metrics) {
      String it = Integer.toString(m.path("iteration").asInt() + 1);
      m.path("seconds").fields().forEachRemaining(e -> {
        if (!e.getKey().equals("total")) {
          data.addValue(e.getValue().asDouble(), e.getKey(), it);
        }
      });
    }
    JFreeChart c = ChartFactory.createStackedBarChart("Seconds per stage", "iteration", "seconds", data,
        PlotOrientation.VERTICAL, true, false, false);
    c.setBackgroundPaint(Color.WHITE);
    c.getCategoryPlot().setBackgroundPaint(Color.WHITE);
    c.getCategoryPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
    var r = (org.jfree.chart.renderer.category.BarRenderer) c.getCategoryPlot().getRenderer();
    r.setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
    r.setShadowVisible(false);
    return c;
  }
}
