package dbksvd.linalg;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * The OpenBLAS dbksvd ships: the shared libraries of Maven Central's {@code org.bytedeco:openblas} for linux-x86_64
 * (a DYNAMIC_ARCH build: it picks its kernels for the CPU at load time) and linux-arm64 (built for generic ARMV8
 * kernels), found on the class path
 * (the jar for spark-submit carries them; bin/dbksvd's class path has the Maven jars) and copied to a per-user cache
 * directory once, since a shared library can only be loaded from a file.
 *
 * <p>Example, x86_64: the class path holds {@code org/bytedeco/openblas/linux-x86_64/libopenblas.so.0} (37.5 MB),
 * {@code libgfortran.so.5} and {@code libquadmath.so.0}; the first JVM on a host writes them to
 * {@code ~/.cache/dbksvd/openblas-linux-x86_64-1f0c93a2/} (the suffix: a checksum of the three files), every later
 * JVM finds that directory and uses it as it is.
 *
 * <p>Several executor JVMs on one host may start at once: each writes into a private temporary directory beside the
 * final one and renames it into place in one step; a JVM that loses the race deletes its copy and uses the
 * winner's. A final directory therefore always holds complete files.
 */
public final class BundledOpenBlas {
  /** The files, in load order: a library's dependencies before it. */
  static final String[] FILES = {"libquadmath.so.0", "libgfortran.so.5", "libopenblas.so.0"};
  /** The last of {@link #FILES}: the one netlib's JNI layer loads. */
  static final String LIBRARY = "libopenblas.so.0";

  private BundledOpenBlas() {}

  /** JavaCPP's name of this JVM's platform ({@code linux-x86_64}, {@code linux-arm64}), or null for another one. */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.startsWith("linux")) {
      return null;
    }
    return switch (arch) {
      case "amd64", "x86_64" -> "linux-x86_64";
      case "aarch64", "arm64" -> "linux-arm64";
      default -> null;
    };
  }

  /** One of the bundled files on the class path: its URL, and its size and checksum where the jar records them. */
  record Resource(String name, URL url, long size, long crc) {}

  /**
   * The bundled files of this platform on the class path, dependencies first; empty when this platform has none
   * (another OS or CPU) or the class path lacks them (a jar built without them).
   */
  static List<Resource> resources() {
    String platform = platform();
    List<Resource> found = new ArrayList<>();
    if (platform == null) {
      return found;
    }
    ClassLoader cl = BundledOpenBlas.class.getClassLoader();
    for (String f : FILES) {
      URL url = cl.getResource("org/bytedeco/openblas/" + platform + "/" + f);
      if (url == null) {
        if (f.equals(LIBRARY)) {
          return new ArrayList<>();
        }
        continue; // libquadmath: x86_64 only
      }
      long size = -1;
      long crc = -1;
      try {
        URLConnection c = url.openConnection();
        if (c instanceof JarURLConnection j) {
          c.setUseCaches(false);
          size = j.getJarEntry().getSize();
          crc = j.getJarEntry().getCrc();
        } else {
          size = c.getContentLengthLong();
          crc = c.getLastModified();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + url, e);
      }
      found.add(new Resource(f, url, size, crc));
    }
    return found;
  }

  /** Whether this platform's OpenBLAS is on the class path. */
  public static boolean available() {
    return !resources().isEmpty();
  }

  /**
   * The directories tried, in order, for the extracted copy: {@code $DBKSVD_CACHE_DIR}, the user's cache directory
   * ({@code $XDG_CACHE_HOME/dbksvd}, else {@code ~/.cache/dbksvd}), and {@code java.io.tmpdir/dbksvd-USER} (for
   * users without a writable home, as YARN containers may run).
   */
  static List<Path> cacheRoots() {
    List<Path> roots = new ArrayList<>();
    String own = System.getenv("DBKSVD_CACHE_DIR");
    if (own != null && !own.isBlank()) {
      roots.add(Path.of(own));
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank()) {
      roots.add(Path.of(xdg, "dbksvd"));
    }
    String home = System.getProperty("user.home");
    if (home != null && !home.isBlank() && !home.equals("?")) {
      roots.add(Path.of(home, ".cache", "dbksvd"));
    }
    roots.add(Path.of(System.getProperty("java.io.tmpdir"), "dbksvd-" + System.getProperty("user.name", "user")));
    return roots;
  }

  /**
   * The extracted {@code libopenblas.so.0} of this platform, writing it (and its dependencies) to the cache
   * directory if no JVM has yet.
   *
   * @throws IllegalStateException when this platform has no bundled OpenBLAS or no cache directory is writable
   */
  public static Path extract() {
    List<Resource> res = resources();
    if (res.isEmpty()) {
      throw new IllegalStateException("no bundled OpenBLAS for " + System.getProperty("os.name") + " "
          + System.getProperty("os.arch") + " on the class path (the jar carries linux-x86_64 and linux-arm64)");
    }
    CRC32 key = new CRC32();
    for (Resource r : res) {
      key.update((r.name() + ":" + r.size() + ":" + r.crc() + ";").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    String dirName = String.format(Locale.ROOT, "openblas-%s-%08x", platform(), key.getValue());
    List<String> failures = new ArrayList<>();
    for (Path root : cacheRoots()) {
      try {
        return extractInto(root, dirName, res).resolve(LIBRARY);
      } catch (IOException | RuntimeException e) {
        failures.add(root + ": " + e);
      }
    }
    throw new IllegalStateException("could not write the bundled OpenBLAS to any cache directory " + failures
        + "; set DBKSVD_CACHE_DIR to a writable directory");
  }

  /** {@code root/dirName} with every file complete: found there, or written to a temporary directory and renamed. */
  static Path extractInto(Path root, String dirName, List<Resource> res) throws IOException {
    Path dir = root.resolve(dirName);
    if (complete(dir, res)) {
      return dir;
    }
    Files.createDirectories(root);
    Path tmp = Files.createTempDirectory(root, "." + dirName + ".tmp-");
    try {
      for (Resource r : res) {
        try (InputStream in = r.url().openStream()) {
          Files.copy(in, tmp.resolve(r.name()));
        }
      }
      if (!complete(tmp, res)) {
        throw new IOException("short copy of the bundled OpenBLAS in " + tmp);
      }
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException lost) {
        // another JVM renamed its copy into place first (rename(2) refuses a non-empty target): use that one; a
        // broken one (a file deleted by hand) is moved aside and replaced
        if (!Files.isDirectory(dir)) {
          throw lost;
        }
        if (!complete(dir, res)) {
          Path stale = Files.createTempDirectory(root, "." + dirName + ".stale-");
          Files.move(dir, stale.resolve("old"), StandardCopyOption.ATOMIC_MOVE);
          Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
          deleteTree(stale);
        }
      }
      return dir;
    } finally {
      deleteTree(tmp);
    }
  }

  /** Every file present with the size the class path gives it. */
  static boolean complete(Path dir, List<Resource> res) throws IOException {
    for (Resource r : res) {
      Path f = dir.resolve(r.name());
      if (!Files.isRegularFile(f) || (r.size() >= 0 && Files.size(f) != r.size())) {
        return false;
      }
    }
    return true;
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException ignored) {
      // a leftover temporary directory is harmless: the final name is what JVMs look for
    }
  }
}
