package dbksvd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The packages form layers, the math at the bottom and Spark near the top (README, "Repository layout"): a package
 * refers only to packages of a lower layer — never upward, never sideways, so never in a loop. References are read
 * from the code (imports and fully qualified names), not from comments.
 */
class ArchitectureTest {
  /** The layer of each package; a new package must be placed here. */
  static final Map<String, Integer> LAYER = Map.ofEntries(
      Map.entry("util", 0), Map.entry("linalg", 0),
      Map.entry("gemm", 1), Map.entry("synth", 1),
      Map.entry("encode", 2),
      Map.entry("metrics", 3), Map.entry("update", 3),
      Map.entry("loop", 4),
      Map.entry("io", 5), Map.entry("config", 5),
      Map.entry("interpret", 6), Map.entry("bench", 6),
      Map.entry("spark", 7),
      Map.entry("cli", 8), Map.entry("ml", 8));

  static final Pattern REFERENCE = Pattern.compile("\\bdbksvd\\.([a-z]+)\\.[A-Za-z]");

  /** The code of a Java file without comments and string literals. */
  static String code(String java) {
    String s = java.replaceAll("(?s)/\\*.*?\\*/", "");
    s = s.replaceAll("//[^\n]*", "");
    return s.replaceAll("\"(\\\\.|[^\"\\\\\n])*\"", "\"\"");
  }

  @Test
  void everyPackageRefersOnlyToLowerLayers() throws IOException {
    Path root = Path.of("src/main/java/dbksvd");
    List<String> wrong = new ArrayList<>();
    TreeSet<String> seen = new TreeSet<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String pkg = root.relativize(f).getName(0).toString();
        seen.add(pkg);
        Integer layer = LAYER.get(pkg);
        assertTrue(layer != null, "package " + pkg + " has no layer in ArchitectureTest.LAYER");
        Matcher m = REFERENCE.matcher(code(Files.readString(f)));
        while (m.find()) {
          String to = m.group(1);
          if (!to.equals(pkg) && !(LAYER.getOrDefault(to, Integer.MAX_VALUE) < layer)) {
            wrong.add(root.relativize(f) + " refers to dbksvd." + to);
          }
        }
      }
    }
    assertEquals(new TreeSet<>(LAYER.keySet()), seen, "packages");
    assertEquals(List.of(), wrong.stream().distinct().toList(), "references upward or sideways");
  }

  @Test
  void theCheckSeesReferencesAndSkipsComments() {
    String java = "package dbksvd.encode;\nimport dbksvd.spark.RowSource; // dbksvd.cli.Main\n/** {@link dbksvd.ml.X} */\n"
        + "class A { Object o = dbksvd.io.Npy.read(null); String s = \"dbksvd.cli.Main\"; }";
    Matcher m = REFERENCE.matcher(code(java));
    List<String> found = new ArrayList<>();
    while (m.find()) {
      found.add(m.group(1));
    }
    assertEquals(List.of("spark", "io"), found); // not the package line, comments or strings
  }
}
