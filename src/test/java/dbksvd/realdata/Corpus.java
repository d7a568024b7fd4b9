package dbksvd.realdata;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The documents the embeddings are made from: a fixed, sorted list of names, and each one's plain text (paragraphs
 * on lines of their own, spaces collapsed). Two kinds: the manual pages of Debian packages ({@link ManPages}, the
 * full dataset) and a directory of .txt files (the test's sample, or any text of one's own).
 */
interface Corpus {
  /** The documents' names, sorted: the build's order before its seeded shuffle. */
  List<String> names() throws IOException;

  /** A document's plain text. */
  String text(String name) throws IOException;

  /** What the manifest records about the source (packages and versions, renderer, directory). */
  Map<String, Object> describe() throws IOException;

  /** Paragraphs (runs of non-blank lines) joined into lines, whitespace collapsed; blank lines dropped. */
  static String paragraphs(List<String> lines) {
    StringBuilder out = new StringBuilder();
    StringBuilder para = new StringBuilder();
    for (String line : lines) {
      String t = line.strip().replaceAll("\\s+", " ");
      if (t.isEmpty()) {
        flush(out, para);
      } else {
        if (para.length() > 0) {
          para.append(' ');
        }
        para.append(t);
      }
    }
    flush(out, para);
    return out.toString();
  }

  private static void flush(StringBuilder out, StringBuilder para) {
    if (para.length() > 0) {
      out.append(para).append('\n');
      para.setLength(0);
    }
  }

  /** Every *.txt file under a directory, named by its path relative to it ('/'-separated). */
  final class TextDirectory implements Corpus {
    private final Path dir;

    TextDirectory(Path dir) {
      this.dir = dir;
    }

    @Override
    public List<String> names() throws IOException {
      if (!Files.isDirectory(dir)) {
        throw new IOException("text directory " + dir + " does not exist");
      }
      List<String> names = new ArrayList<>();
      try (Stream<Path> files = Files.walk(dir)) {
        files.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".txt"))
            .forEach(p -> names.add(dir.relativize(p).toString().replace('\\', '/')));
      }
      names.sort(null);
      if (names.isEmpty()) {
        throw new IOException("text directory " + dir + " holds no .txt files");
      }
      return names;
    }

    @Override
    public String text(String name) throws IOException {
      return paragraphs(Files.readAllLines(dir.resolve(name), StandardCharsets.UTF_8));
    }

    @Override
    public Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("kind", "text directory");
      m.put("directory", dir.toAbsolutePath().normalize().toString());
      return m;
    }
  }
}
