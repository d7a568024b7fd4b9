package dbksvd.linalg;

import dev.ludovic.netlib.blas.NativeBLAS;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Which native BLAS netlib's JNI layer loads in this JVM, set by {@code dbksvd.blas.library}:
 * <ul>
 *   <li>{@code bundled} (the default): the OpenBLAS in dbksvd's jar ({@link BundledOpenBlas}); on a platform it
 *       does not cover, the system's, with a warning;</li>
 *   <li>{@code system}: the system's {@code libopenblas.so.0} where a standard library directory has it, else
 *       whatever {@code libblas.so.3} resolves to (netlib's default);</li>
 *   <li>a path: that shared library (refused in one line when it is missing or does not load).</li>
 * </ul>
 * netlib's own system properties {@code -Ddev.ludovic.netlib.blas.nativeLib} / {@code nativeLibPath}, when a user
 * sets them, win over all of this. netlib loads one library per JVM, once: the setting must be known before the first
 * native call. The driver gets it from {@code Sessions} ({@link #use}); an executor JVM reads
 * {@code -Ddbksvd.blas.library} or the environment variable {@code DBKSVD_BLAS_LIBRARY}
 * ({@code spark.executorEnv.DBKSVD_BLAS_LIBRARY}, which {@code Sessions} sets) when its first task needs BLAS.
 *
 * <p>Whatever was asked, what is reported is what loaded: the library's file as this process maps it
 * ({@code /proc/self/maps}), the OpenBLAS version written in it and its core name ({@link OpenBlasCore}).
 */
public final class BlasLibrary {
  private static final Logger LOG = Logger.getLogger(BlasLibrary.class.getName());
  /** The JVM system property an executor (or any JVM) reads. */
  public static final String PROPERTY = "dbksvd.blas.library";
  /** The environment variable an executor reads when the property is not set. */
  public static final String ENV = "DBKSVD_BLAS_LIBRARY";
  static final String NETLIB_LIB = "dev.ludovic.netlib.blas.nativeLib";
  static final String NETLIB_PATH = "dev.ludovic.netlib.blas.nativeLibPath";

  private static volatile Loaded current;
  private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();
  private static final AtomicBoolean MISMATCH_TOLD = new AtomicBoolean();

  private BlasLibrary() {}

  /**
   * The BLAS this JVM runs.
   *
   * @param blas      netlib's instance (native, or the pure-Java fallback)
   * @param setting   what was asked: bundled, system, a path, or the netlib property a user set
   * @param source    where the library came from, e.g. {@code bundled}, {@code system}, {@code path},
   *                  {@code system (no bundled OpenBLAS for Mac OS X aarch64)}
   * @param path      the library file this process maps, or null (pure Java, or not found)
   * @param version   the OpenBLAS version written in it, or null (not OpenBLAS)
   * @param core      OpenBLAS's core name, or null
   * @param shortfall why the kernels fall short of the CPU, or null
   * @param failure   for a path that did not load: the one-line reason, thrown by every later use; else null
   */
  public record Loaded(dev.ludovic.netlib.blas.BLAS blas, String setting, String source, Path path, String version,
      String core, String shortfall, String failure) {

    public boolean isNative() {
      return blas instanceof NativeBLAS;
    }

    /** The implementation's class name ({@code none} when the asked library failed to load). */
    public String implementation() {
      return blas == null ? "none" : blas.getClass().getName();
    }

    /** One phrase for the fit line, model.json and bench: implementation, OpenBLAS version and core, source. */
    public String describe() {
      StringBuilder sb = new StringBuilder(implementation());
      if (failure != null) {
        return sb.append(" (").append(failure).append(')').toString();
      }
      if (!isNative()) {
        return sb.append(" (pure Java, no native BLAS)").toString();
      }
      if (version != null) {
        sb.append(", OpenBLAS ").append(version).append(" core ").append(core == null ? "unknown" : core);
      } else if (path != null) {
        sb.append(", ").append(path.getFileName()).append(" (not OpenBLAS)");
      }
      return sb.append(" (").append(source).append(')').toString();
    }
  }

  /**
   * A setting in canonical form: {@code bundled}, {@code system}, or an absolute path to an existing file.
   *
   * @throws IllegalArgumentException naming the setting and what is wrong with it
   */
  public static String check(String setting) {
    String s = setting == null ? "" : setting.trim();
    String word = s.toLowerCase(Locale.ROOT);
    if (word.equals("bundled") || word.equals("system")) {
      return word;
    }
    if (!s.contains("/")) {
      throw new IllegalArgumentException("dbksvd.blas.library must be bundled, system or the path of a BLAS shared "
          + "library (e.g. /usr/lib/x86_64-linux-gnu/libopenblas.so.0), got '" + setting + "'");
    }
    Path p = Path.of(s).toAbsolutePath().normalize();
    if (!Files.exists(p)) {
      throw new IllegalArgumentException("dbksvd.blas.library = " + s + ": no such file");
    }
    if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
      throw new IllegalArgumentException("dbksvd.blas.library = " + s + ": not a readable file");
    }
    return p.toString();
  }

  /** This JVM's setting when nobody passed one: {@code -Ddbksvd.blas.library}, else {@code $DBKSVD_BLAS_LIBRARY}, else bundled. */
  public static String configured() {
    String s = System.getProperty(PROPERTY);
    if (s == null || s.isBlank()) {
      s = System.getenv(ENV);
    }
    return s == null || s.isBlank() ? "bundled" : s;
  }

  /** The BLAS of this JVM, loading it now (as {@link #configured()} says) if nothing has yet. */
  public static Loaded current() {
    Loaded l = current;
    return l != null ? l : load(null);
  }

  /** Whether this JVM has chosen and loaded its BLAS. */
  public static boolean isLoaded() {
    return current != null;
  }

  /**
   * Loads the BLAS a setting names, unless this JVM already runs one: then a different setting is logged once as not
   * applied (netlib loads one library per JVM).
   *
   * @throws IllegalArgumentException when the setting is malformed, or names a path that does not load
   */
  public static Loaded use(String setting) {
    String s = check(setting);
    Loaded l = load(s);
    if (l.failure() != null) {
      throw new IllegalArgumentException(l.failure());
    }
    if (!l.setting().equals(s) && !l.setting().startsWith("-D") && MISMATCH_TOLD.compareAndSet(false, true)) {
      LOG.warning("BLAS: dbksvd.blas.library = " + s + " not applied: this JVM already runs " + l.describe()
          + " (netlib loads one library per JVM; the setting takes effect in a new one)");
    }
    return l;
  }

  /** Logs once per JVM which BLAS runs; warns when it is pure Java or its kernels fall short of the CPU. */
  public static Loaded announce() {
    Loaded l = current();
    if (l.failure() != null) {
      throw new IllegalArgumentException(l.failure());
    }
    if (ANNOUNCED.get() || !ANNOUNCED.compareAndSet(false, true)) {
      return l;
    }
    String coretype = System.getenv("OPENBLAS_CORETYPE");
    if (!l.isNative()) {
      String msg = "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
          + "!! dbksvd: NO NATIVE BLAS. Using " + l.implementation() + ", about 15x slower for SGEMM.\n"
          + "!! dbksvd.blas.library = " + l.setting() + " (" + l.source() + ") did not load; see README\n"
          + "!! 'Native BLAS' (the bundled OpenBLAS covers linux-x86_64 and linux-arm64).\n"
          + "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";
      LOG.warning(msg);
      System.err.println(msg);
      return l;
    }
    LOG.info("BLAS: " + l.describe() + ", " + (l.path() == null ? "library file not found in /proc/self/maps"
        : l.path()) + "; OPENBLAS_NUM_THREADS=" + System.getenv().getOrDefault("OPENBLAS_NUM_THREADS", "unset")
        + ", OPENBLAS_CORETYPE=" + (coretype == null ? "unset" : coretype));
    if (l.shortfall() != null) {
      if (coretype != null && !coretype.isBlank()) {
        LOG.info("BLAS: " + l.shortfall() + ", as OPENBLAS_CORETYPE=" + coretype + " asks");
      } else {
        String advice = l.source().equals("bundled")
            ? "This platform's bundled OpenBLAS is built for that core only; an OpenBLAS built with DYNAMIC_ARCH "
                + "(Debian/Ubuntu: libopenblas0-pthread) may run faster: dbksvd.blas.library = system"
            : "The bundled OpenBLAS (dbksvd.blas.library = bundled, the default) picks kernels for the CPU on "
                + "linux-x86_64; or set OPENBLAS_CORETYPE";
        LOG.warning("BLAS: " + l.shortfall() + " (" + l.source() + ", " + l.path() + "): SGEMM may run several "
            + "times slower than this CPU allows. " + advice + " (README, 'Native BLAS').");
      }
    }
    return l;
  }

  /**
   * Prints what this JVM loads, one {@code key=value} per line ({@code setting}, {@code source}, {@code path},
   * {@code version}, {@code core}, {@code shortfall}, {@code describe}), e.g.
   * {@code java -Ddbksvd.blas.library=system -cp dbksvd.jar:… dbksvd.linalg.BlasLibrary}; a setting that does not
   * load ends in one line {@code dbksvd: error: …} and exit code 2.
   */
  public static void main(String[] args) {
    Loaded l;
    try {
      l = current();
      if (l.failure() != null) {
        throw new IllegalArgumentException(l.failure());
      }
    } catch (IllegalArgumentException e) {
      System.err.println("dbksvd: error: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.out.println("setting=" + l.setting());
    System.out.println("source=" + l.source());
    System.out.println("implementation=" + l.implementation());
    System.out.println("path=" + (l.path() == null ? "" : l.path()));
    System.out.println("version=" + (l.version() == null ? "" : l.version()));
    System.out.println("core=" + (l.core() == null ? "" : l.core()));
    System.out.println("shortfall=" + (l.shortfall() == null ? "" : l.shortfall()));
    System.out.println("describe=" + l.describe());
  }

  private static synchronized Loaded load(String requested) {
    if (current != null) {
      return current;
    }
    String userLib = System.getProperty(NETLIB_LIB);
    String userPath = System.getProperty(NETLIB_PATH);
    String setting;
    String source;
    Path expected = null;
    if (userPath != null || userLib != null) {
      setting = userPath != null ? "-D" + NETLIB_PATH + "=" + userPath : "-D" + NETLIB_LIB + "=" + userLib;
      source = setting;
      expected = userPath != null ? Path.of(userPath) : null;
    } else {
      setting = requested != null ? requested : configuredChecked();
      if (setting.startsWith("/")) {
        String failure = OpenBlasCore.namesSgemm(Path.of(setting)) ? preload(Path.of(setting))
            : "not a BLAS library (it has no cblas_sgemm, which netlib calls)";
        if (failure != null) {
          return current = new Loaded(null, setting, "path", null, null, null, null,
              "dbksvd.blas.library = " + setting + ": " + failure);
        }
        System.setProperty(NETLIB_PATH, setting);
        source = "path";
        expected = Path.of(setting);
      } else if (setting.equals("bundled")) {
        String why = null;
        try {
          expected = BundledOpenBlas.extract();
          for (String dep : BundledOpenBlas.FILES) {
            Path f = expected.resolveSibling(dep);
            if (Files.exists(f) && why == null) {
              why = preload(f);
            }
          }
        } catch (RuntimeException e) {
          why = e.getMessage();
        }
        if (why == null) {
          System.setProperty(NETLIB_PATH, expected.toString());
          source = "bundled";
        } else {
          LOG.warning("BLAS: the bundled OpenBLAS is not usable here (" + why + "); using the system's");
          expected = null;
          preferSystemOpenBlas();
          source = "system, as the bundled one is not usable here";
        }
      } else {
        preferSystemOpenBlas();
        source = "system";
      }
    }
    dev.ludovic.netlib.blas.BLAS blas;
    try {
      blas = NativeBLAS.getInstance();
    } catch (Throwable e) {
      if (setting.startsWith("/")) {
        return current = new Loaded(null, setting, source, null, null, null, null, "dbksvd.blas.library = "
            + setting + ": netlib could not load it (" + e + ")");
      }
      blas = dev.ludovic.netlib.blas.BLAS.getInstance();
      return current = new Loaded(blas, setting, source, null, null, null, null, null);
    }
    Path path = mapped(expected);
    if (expected != null && path != null && !sameFile(expected, path)) {
      LOG.warning("BLAS: asked for " + expected + " but this process maps " + path + ": netlib was initialised "
          + "before dbksvd chose its BLAS (by Spark MLlib?)");
      source = source + ", overridden by an earlier load";
    }
    String version = path == null ? null : OpenBlasCore.version(path);
    String core = version == null ? null : OpenBlasCore.coreName(path);
    if (version != null && core == null) {
      core = OpenBlasCore.compiledCore(path); // a build for one core does not print it: its configuration names it
    }
    String shortfall = core == null ? null : OpenBlasCore.shortfall(core);
    if (shortfall != null) {
      shortfall = shortfall.replace("OpenBLAS runs", "OpenBLAS " + version + " runs");
    }
    return current = new Loaded(blas, setting, source, path, version, core, shortfall, null);
  }

  /** {@link #configured()}, checked; a bad value set for a JVM by property or environment is refused in one line. */
  private static String configuredChecked() {
    return check(configured());
  }

  /**
   * Loads a shared library into the process before netlib does, so that a file that does not load fails with the
   * loader's own reason, and the bundled library's dependencies are found by their names when OpenBLAS asks for them.
   * Returns null on success, else the reason.
   */
  private static String preload(Path lib) {
    try {
      System.load(lib.toAbsolutePath().toString());
      return null;
    } catch (UnsatisfiedLinkError e) {
      String msg = String.valueOf(e.getMessage());
      if (msg.contains("already loaded in another classloader")) {
        return null; // in the process already, which is all that matters to the dynamic loader
      }
      return msg.replace('\n', ' ');
    }
  }

  /**
   * netlib's JNI layer dlopen()s {@code libblas.so.3} unless told otherwise. Where that name resolves to the slow
   * reference BLAS but OpenBLAS is installed, point it straight at OpenBLAS.
   */
  private static void preferSystemOpenBlas() {
    for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
        "/usr/lib", "/usr/local/lib", "/opt/homebrew/opt/openblas/lib"}) {
      if (new java.io.File(dir, "libopenblas.so.0").exists()) {
        System.setProperty(NETLIB_LIB, "libopenblas.so.0");
        return;
      }
    }
  }

  /**
   * The BLAS library file this process maps: {@code expected} when it is mapped, else the first mapped file whose
   * name says BLAS (netlib's own JNI glue aside), OpenBLAS first. Null off Linux or when none is found.
   */
  static Path mapped(Path expected) {
    List<String> files = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        int slash = line.indexOf('/');
        if (slash >= 0) {
          String f = line.substring(slash).trim();
          if (!files.contains(f)) {
            files.add(f);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return expected;
    }
    if (expected != null) {
      for (String f : files) {
        if (sameFile(expected, Path.of(f))) {
          return Path.of(f);
        }
      }
    }
    for (String prefix : new String[] {"libopenblas", "libblas", ""}) {
      for (String f : files) {
        String name = Path.of(f).getFileName().toString();
        if (name.startsWith(prefix) && name.contains("blas") && !name.contains("netlibblasjni")) {
          return Path.of(f);
        }
      }
    }
    return null;
  }

  private static boolean sameFile(Path a, Path b) {
    try {
      return Files.isSameFile(a, b);
    } catch (IOException e) {
      return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
  }
}
