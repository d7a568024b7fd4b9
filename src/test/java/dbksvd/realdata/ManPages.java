package dbksvd.realdata;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The English manual pages of installed Debian packages (e.g. manpages, manpages-dev), rendered to plain text by
 * man-db: {@code man --nh --nj -l FILE} with MANWIDTH=2000, so that no word is hyphenated and a paragraph is one
 * line. The page's header and footer lines are dropped. Pages that only include another ({@code .so}) and
 * symbolic links are left out, so each page is read once. Names are paths under /usr/share/man without ".gz",
 * e.g. "man2/open.2". The text depends on the packages' and man-db's versions, which {@link #describe} records.
 */
final class ManPages implements Corpus {
  static final Path ROOT = Path.of("/usr/share/man");
  private static final Pattern PAGE = Pattern.compile("/usr/share/man/man[0-9][^/]*/[^/]+\\.gz");
  private static final int WIDTH = 2000;

  private final List<String> packages;

  ManPages(List<String> packages) {
    if (packages.isEmpty()) {
      throw new IllegalArgumentException("--source names no package");
    }
    this.packages = List.copyOf(packages);
  }

  @Override
  public List<String> names() throws IOException {
    List<String> names = new ArrayList<>();
    for (String pkg : packages) {
      String status = run(List.of("dpkg-query", "-W", "-f=${Status}", pkg), true).strip();
      if (!status.equals("install ok installed")) {
        throw new IOException("Debian package " + pkg + " is not installed (bin/real-embeddings installs it with "
            + "apt-get; or: apt-get install " + pkg + ")");
      }
      int listed = 0;
      for (String line : run(List.of("dpkg-query", "-L", pkg), false).split("\n")) {
        if (!PAGE.matcher(line).matches()) {
          continue;
        }
        listed++;
        Path p = Path.of(line);
        if (Files.isSymbolicLink(p) || !Files.isRegularFile(p) || includesOnly(p)) {
          continue;
        }
        names.add(ROOT.relativize(p).toString().replaceFirst("\\.gz$", ""));
      }
      if (listed > 0 && names.isEmpty()) {
        throw new IOException("package " + pkg + " lists " + listed + " manual pages but none is on disk (does "
            + "/etc/dpkg/dpkg.cfg.d exclude /usr/share/man? remove that rule and reinstall " + pkg + ")");
      }
    }
    names.sort(null);
    if (names.isEmpty()) {
      throw new IOException("packages " + packages + " hold no manual pages");
    }
    return names;
  }

  /** A page whose first request is {@code .so other}: an alias of another page. */
  private static boolean includesOnly(Path page) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(page))) {
      String head = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
      for (String line : head.split("\n")) {
        if (line.startsWith(".\\\"") || line.startsWith("'\\\"") || line.isBlank()) {
          continue;
        }
        return line.startsWith(".so ");
      }
      return false;
    }
  }

  @Override
  public String text(String name) throws IOException {
    Path page = ROOT.resolve(name + ".gz");
    List<String> lines = new ArrayList<>(List.of(run(List.of("man", "--nh", "--nj", "-l", page.toString()), false)
        .split("\n")));
    // the first and last non-blank lines are the page's header ("open(2) System Calls Manual open(2)") and footer
    lines.removeIf(String::isBlank);
    if (lines.size() < 3) {
      return "";
    }
    return Corpus.paragraphs(lines.subList(1, lines.size() - 1));
  }

  @Override
  public Map<String, Object> describe() throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kind", "Debian manual pages");
    Map<String, String> versions = new LinkedHashMap<>();
    for (String pkg : packages) {
      versions.put(pkg, run(List.of("dpkg-query", "-W", "-f=${Version}", pkg), false).strip());
    }
    m.put("packages", versions);
    m.put("renderer", "man --nh --nj -l PAGE, MANWIDTH=" + WIDTH + "; header and footer lines dropped");
    m.put("man-db", run(List.of("dpkg-query", "-W", "-f=${Version}", "man-db"), true).strip());
    m.put("groff-base", run(List.of("dpkg-query", "-W", "-f=${Version}", "groff-base"), true).strip());
    return m;
  }

  /** Runs a command, returns its standard output (UTF-8); fails naming the command unless {@code tolerant}. */
  private static String run(List<String> command, boolean tolerant) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
    Map<String, String> env = pb.environment();
    env.put("MANWIDTH", Integer.toString(WIDTH));
    env.put("LC_ALL", "C.UTF-8");
    env.put("MANPAGER", "cat");
    env.put("PAGER", "cat");
    env.remove("MAN_KEEP_FORMATTING");
    env.remove("MANOPT");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException("cannot run " + command.get(0) + " (" + e.getMessage() + "); on Debian: apt-get install "
          + (command.get(0).equals("man") ? "man-db" : "dpkg"), e);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = p.getInputStream()) {
      in.transferTo(out);
    }
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + " did not finish in 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (p.exitValue() != 0 && !tolerant) {
      throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue());
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
