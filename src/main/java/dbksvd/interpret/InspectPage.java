package dbksvd.interpret;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.function.LongFunction;
import java.util.function.LongUnaryOperator;

/**
 * What {@code inspect} writes: atoms.json (every requested atom's usage, nearest atoms, top rows and weaker rows)
 * and index.html (one self-contained page: an index of the atoms, a search box that filters the atoms by the text
 * of their rows, and a card per atom).
 */
public final class InspectPage {
  private InspectPage() {}

  /** Where a row key points: its file and index in that file. */
  public record Locator(LongFunction<String> file, LongUnaryOperator rowIndex) {}

  public static ObjectNode json(AtomTopK r, String[] columns, int[][] nearest, float[][] nearestCos,
      Locator where, ObjectNode header) {
    ObjectMapper om = new ObjectMapper();
    ObjectNode o = header.deepCopy();
    o.put("rows", r.rows);
    o.put("top", r.top);
    o.put("sample", r.sample);
    o.put("sample_seed", r.seed);
    o.put("ranking", "rows by |coefficient| descending (ties: file order, then row)");
    o.put("weaker_rows", "a seeded uniform sample of the other rows whose code uses the atom (coefficient != 0),"
        + " not among its top rows, shown by |coefficient| descending");
    ArrayNode cols = o.putArray("columns");
    for (String c : columns) {
      cols.add(c);
    }
    ArrayNode atoms = o.putArray("atoms");
    for (int s = 0; s < r.atoms.length; s++) {
      int j = r.atoms[s];
      ObjectNode a = atoms.addObject();
      a.put("atom", j);
      a.put("usage_rows", r.usage[j]);
      a.put("usage_frequency", r.rows > 0 ? (double) r.usage[j] / r.rows : 0);
      ArrayNode nb = a.putArray("nearest");
      for (int q = 0; q < nearest[s].length; q++) {
        nb.addObject().put("atom", nearest[s][q]).put("cosine", nearestCos[s][q]);
      }
      rowsJson(a.putArray("top"), r.top(s), columns, where);
      rowsJson(a.putArray("weaker"), r.weaker(s), columns, where);
    }
    return o;
  }

  private static void rowsJson(ArrayNode out, List<AtomTopK.Entry> entries, String[] columns, Locator where) {
    for (AtomTopK.Entry e : entries) {
      ObjectNode row = out.addObject();
      row.put("file", where.file().apply(e.key()));
      row.put("row", where.rowIndex().applyAsLong(e.key()));
      row.put("coefficient", e.coef());
      ObjectNode v = row.putObject("values");
      String[] values = (String[]) e.payload();
      for (int c = 0; c < columns.length; c++) {
        v.put(columns[c], values == null ? null : values[c]);
      }
    }
  }

  /** The HTML page for the JSON of {@link #json}. */
  public static String html(ObjectNode o) {
    StringBuilder h = new StringBuilder(1 << 20);
    String title = "dbksvd inspect: " + o.path("model").asText();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title))
        .append("</title>\n<style>\n")
        .append("body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}")
        .append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top;font-size:13px}")
        .append(".atom{border:1px solid #999;margin:1em 0;padding:.5em 1em}.num{text-align:right}")
        .append(".weak{color:#666}#q{font-size:16px;width:30em;padding:4px}.hidden{display:none}\n")
        .append("</style></head><body>\n<h1>").append(esc(title)).append("</h1>\n<p>")
        .append(esc("input " + o.path("input").asText() + ": " + o.path("rows").asLong() + " rows; m = "
            + o.path("m").asInt() + ", d = " + o.path("d").asInt() + "; " + o.path("atoms").size()
            + " atoms shown; top " + o.path("top").asInt() + " rows per atom by |coefficient|, and a sample of "
            + o.path("sample").asInt() + " weaker rows (" + o.path("weaker_rows").asText() + ")."))
        .append("</p>\n<p><input id=\"q\" placeholder=\"search the rows' text (shows matching atoms)\" "
            + "oninput=\"filter(this.value)\"> <span id=\"count\"></span></p>\n");
    String[] columns = new String[o.path("columns").size()];
    for (int c = 0; c < columns.length; c++) {
      columns[c] = o.path("columns").get(c).asText();
    }
    h.append("<h2>Index</h2>\n<table id=\"index\"><tr><th>atom</th><th>usage</th><th>nearest atoms (cosine)</th>"
        + "<th>strongest row</th></tr>\n");
    for (var a : o.path("atoms")) {
      int j = a.path("atom").asInt();
      h.append("<tr class=\"idx\" data-atom=\"").append(j).append("\"><td><a href=\"#atom-").append(j).append("\">")
          .append(j).append("</a></td><td class=\"num\">").append(pct(a.path("usage_frequency").asDouble()))
          .append("</td><td>").append(nearest(a)).append("</td><td>");
      var first = a.path("top").path(0);
      if (!first.isMissingNode()) {
        h.append(esc(snippet(first, columns, 120)));
      }
      h.append("</td></tr>\n");
    }
    h.append("</table>\n<h2>Atoms</h2>\n");
    for (var a : o.path("atoms")) {
      int j = a.path("atom").asInt();
      h.append("<div class=\"atom\" id=\"atom-").append(j).append("\" data-atom=\"").append(j).append("\"><h3>atom ")
          .append(j).append("</h3><p>used by ").append(a.path("usage_rows").asLong()).append(" rows (")
          .append(pct(a.path("usage_frequency").asDouble())).append("); nearest atoms: ").append(nearest(a))
          .append("</p>\n<table><tr><th>#</th><th>coefficient</th>");
      for (String c : columns) {
        h.append("<th>").append(esc(c)).append("</th>");
      }
      h.append("<th>file:row</th></tr>\n");
      rowsHtml(h, a.path("top"), columns, "");
      if (a.path("weaker").size() > 0) {
        h.append("<tr><td colspan=\"").append(columns.length + 3).append("\"><i>sample of weaker rows</i></td></tr>\n");
        rowsHtml(h, a.path("weaker"), columns, "weak");
      }
      h.append("</table></div>\n");
    }
    h.append("<script>\n")
        .append("function filter(q){q=q.toLowerCase();var n=0;")
        .append("document.querySelectorAll('div.atom').forEach(function(d){")
        .append("var hit=!q||d.textContent.toLowerCase().indexOf(q)>=0;d.classList.toggle('hidden',!hit);")
        .append("var r=document.querySelector('tr.idx[data-atom=\"'+d.dataset.atom+'\"]');")
        .append("if(r)r.classList.toggle('hidden',!hit);if(hit)n++;});")
        .append("document.getElementById('count').textContent=q?n+' atoms match':'';}\n")
        .append("</script>\n</body></html>\n");
    return h.toString();
  }

  private static void rowsHtml(StringBuilder h, com.fasterxml.jackson.databind.JsonNode rows, String[] columns,
      String cls) {
    int i = 1;
    for (var r : rows) {
      h.append("<tr class=\"").append(cls).append("\"><td class=\"num\">").append(i++)
          .append("</td><td class=\"num\">").append(String.format("%.4g", r.path("coefficient").asDouble()))
          .append("</td>");
      for (String c : columns) {
        var v = r.path("values").path(c);
        h.append("<td>").append(v.isNull() || v.isMissingNode() ? "<i>null</i>" : esc(cut(v.asText(), MAX_CELL)))
            .append("</td>");
      }
      h.append("<td>").append(esc(shortFile(r.path("file").asText()) + ":" + r.path("row").asLong()))
          .append("</td></tr>\n");
    }
  }

  private static String nearest(com.fasterxml.jackson.databind.JsonNode a) {
    StringBuilder sb = new StringBuilder();
    for (var n : a.path("nearest")) {
      int i = n.path("atom").asInt();
      sb.append(sb.length() > 0 ? ", " : "").append("<a href=\"#atom-").append(i).append("\">").append(i)
          .append("</a> (").append(String.format("%.2f", n.path("cosine").asDouble())).append(')');
    }
    return sb.toString();
  }

  /** Characters of a value shown in a page cell (atoms.json keeps more), so that a page of 4096 atoms stays light. */
  static final int MAX_CELL = 300;

  private static String cut(String s, int max) {
    return s.length() > max ? s.substring(0, max) + "…" : s;
  }

  private static String snippet(com.fasterxml.jackson.databind.JsonNode row, String[] columns, int max) {
    String s = columns.length == 0 ? "" : row.path("values").path(columns[0]).asText("");
    return s.length() > max ? s.substring(0, max) + "…" : s;
  }

  private static String shortFile(String path) {
    int slash = path.lastIndexOf('/');
    return slash >= 0 ? path.substring(slash + 1) : path;
  }

  private static String pct(double f) {
    return String.format("%.3g%%", 100 * f);
  }

  /** HTML-escapes text for element content and attribute values. */
  public static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }
}
