package dbksvd.linalg;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an OpenBLAS library runs on this CPU: its version, the kernels it picked (OpenBLAS's own core name, e.g.
 * {@code Haswell}, {@code SkylakeX}, {@code Zen}, {@code neoversen1}) and whether those fall short of the CPU.
 *
 * <p>The core name is OpenBLAS's {@code gotoblas_corename()}, the value of {@code openblas_get_corename()}, which a
 * DYNAMIC_ARCH build prints as {@code Core: Zen} when it initialises with {@code OPENBLAS_VERBOSE=2}. netlib's JNI
 * layer exposes no way to call it, so dbksvd loads the same file into {@code /bin/true} (LD_PRELOAD, a few tens of
 * milliseconds) with this JVM's environment — the same CPU, the same {@code OPENBLAS_CORETYPE} — and reads that line.
 *
 * <p>Example: on an AVX-512 Xeon, Debian's 0.3.21 prints {@code Core: Prescott}; {@link #shortfall} then says
 * "this CPU has AVX-512 but OpenBLAS runs its generic (SSE) Prescott kernels".
 */
public final class OpenBlasCore {
  private OpenBlasCore() {}

  /** ISA levels, ordered. */
  enum Isa {
    GENERIC("generic"), AVX("AVX"), AVX2("AVX2"), AVX512("AVX-512"), ASIMD("NEON"), SVE("SVE");

    final String label;

    Isa(String label) {
      this.label = label;
    }
  }

  /** x86-64 core names (lower case) by the widest vectors their SGEMM kernels use; any other name is unknown. */
  static final Map<String, Isa> X86_CORES = Map.ofEntries(
      Map.entry("sapphirerapids", Isa.AVX512), Map.entry("cooperlake", Isa.AVX512), Map.entry("skylakex", Isa.AVX512),
      Map.entry("haswell", Isa.AVX2), Map.entry("zen", Isa.AVX2), Map.entry("excavator", Isa.AVX2),
      Map.entry("sandybridge", Isa.AVX), Map.entry("bulldozer", Isa.AVX), Map.entry("piledriver", Isa.AVX),
      Map.entry("steamroller", Isa.AVX),
      Map.entry("prescott", Isa.GENERIC), Map.entry("core2", Isa.GENERIC), Map.entry("penryn", Isa.GENERIC),
      Map.entry("dunnington", Isa.GENERIC), Map.entry("nehalem", Isa.GENERIC), Map.entry("atom", Isa.GENERIC),
      Map.entry("katmai", Isa.GENERIC), Map.entry("coppermine", Isa.GENERIC), Map.entry("northwood", Isa.GENERIC),
      Map.entry("banias", Isa.GENERIC), Map.entry("opteron", Isa.GENERIC), Map.entry("opteron_sse3", Isa.GENERIC),
      Map.entry("barcelona", Isa.GENERIC), Map.entry("bobcat", Isa.GENERIC), Map.entry("nano", Isa.GENERIC),
      Map.entry("generic", Isa.GENERIC));

  /** AArch64 core names (lower case): SVE kernels, NEON kernels tuned for a core, and the generic ARMv8 ones. */
  static final Map<String, Isa> ARM_CORES = Map.ofEntries(
      Map.entry("neoversev1", Isa.SVE), Map.entry("neoversev2", Isa.SVE), Map.entry("neoversen2", Isa.SVE),
      Map.entry("a64fx", Isa.SVE), Map.entry("armv8sve", Isa.SVE), Map.entry("armv9sve", Isa.SVE),
      Map.entry("neoversen1", Isa.ASIMD), Map.entry("cortexa53", Isa.ASIMD), Map.entry("cortexa55", Isa.ASIMD),
      Map.entry("cortexa57", Isa.ASIMD), Map.entry("cortexa72", Isa.ASIMD), Map.entry("cortexa73", Isa.ASIMD),
      Map.entry("cortexa76", Isa.ASIMD), Map.entry("thunderx", Isa.ASIMD), Map.entry("thunderx2t99", Isa.ASIMD),
      Map.entry("thunderx3t110", Isa.ASIMD), Map.entry("tsv110", Isa.ASIMD), Map.entry("falkor", Isa.ASIMD),
      Map.entry("emag8180", Isa.ASIMD), Map.entry("vortex", Isa.ASIMD), Map.entry("ft2000", Isa.ASIMD),
      Map.entry("armv8", Isa.GENERIC));

  private static final Pattern CORE = Pattern.compile("Core: *(\\S+)");
  private static final Pattern VERSION = Pattern.compile("OpenBLAS (\\d+\\.\\d+\\.\\d+)");
  /** The build configuration OpenBLAS writes into itself, e.g. {@code OpenBLAS 0.3.31 NO_AFFINITY ARMV8}. */
  private static final Pattern CONFIG = Pattern.compile("(OpenBLAS \\d+\\.\\d+\\.\\d+[ A-Za-z0-9_=]*)");

  /**
   * OpenBLAS's core name for {@code library} in this environment, or null when it prints none (not OpenBLAS, a build
   * without DYNAMIC_ARCH, or no {@code /bin/true} to load it into).
   */
  public static String coreName(Path library) {
    return coreName(library, Map.of());
  }

  /** {@link #coreName(Path)} with these variables added to the environment (e.g. {@code OPENBLAS_CORETYPE}). */
  static String coreName(Path library, Map<String, String> extraEnv) {
    String trueBin = Files.isExecutable(Path.of("/bin/true")) ? "/bin/true"
        : Files.isExecutable(Path.of("/usr/bin/true")) ? "/usr/bin/true" : null;
    if (trueBin == null || library == null) {
      return null;
    }
    ProcessBuilder pb = new ProcessBuilder(trueBin).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("LD_PRELOAD", library.toString());
    env.put("OPENBLAS_VERBOSE", "2");
    env.put("OPENBLAS_NUM_THREADS", "1"); // no thread pool for a process that only reports its kernels
    String dir = library.toAbsolutePath().getParent().toString(); // libgfortran's own dependencies, bundled beside it
    String ldPath = env.get("LD_LIBRARY_PATH");
    env.put("LD_LIBRARY_PATH", ldPath == null || ldPath.isEmpty() ? dir : dir + ":" + ldPath);
    env.putAll(extraEnv);
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readNBytes(1 << 16);
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      Matcher m = CORE.matcher(new String(out, StandardCharsets.UTF_8));
      return m.find() ? m.group(1) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /**
   * The OpenBLAS version written in the library ({@code "OpenBLAS 0.3.21 ..."}, the start of what
   * {@code openblas_get_config()} returns), or null when the file holds no such text (not OpenBLAS).
   */
  public static String version(Path library) {
    return scan(library, "OpenBLAS ", VERSION);
  }

  /**
   * The core a build without DYNAMIC_ARCH was compiled for: the last word of its configuration text (e.g.
   * {@code ARMV8} in {@code OpenBLAS 0.3.31 NO_AFFINITY ARMV8}), which is what {@code openblas_get_corename()} names;
   * null for a DYNAMIC_ARCH build (it chooses at load time and says so itself) or when the text is not found.
   */
  static String compiledCore(Path library) {
    String config = scan(library, "OpenBLAS ", CONFIG, 96);
    if (config == null || config.contains("DYNAMIC_ARCH")) {
      return null;
    }
    String[] words = config.trim().split(" ");
    return words.length > 2 ? words[words.length - 1] : null;
  }

  /** Whether a shared library holds the name {@code cblas_sgemm} (its dynamic symbols do, where it defines it). */
  static boolean namesSgemm(Path library) {
    return scan(library, "cblas_sgemm", CBLAS_SGEMM) != null;
  }

  private static final Pattern CBLAS_SGEMM = Pattern.compile("(cblas_sgemm)\\x00");

  /**
   * Group 1 of {@code pattern} matched at the first occurrence of {@code needle} in a file where it matches (at most
   * 32 characters on), or null.
   */
  static String scan(Path file, String needle, Pattern pattern) {
    return scan(file, needle, pattern, 32);
  }

  /** {@link #scan(Path, String, Pattern)} looking at most {@code span} characters on from each occurrence. */
  static String scan(Path file, String needle, Pattern pattern, int span) {
    byte[] buf = new byte[1 << 22];
    int keep = 0; // bytes carried over from the previous chunk, so a match across chunks is found
    try (InputStream in = Files.newInputStream(file)) {
      while (true) {
        int got = in.readNBytes(buf, keep, buf.length - keep);
        int len = keep + got;
        // Latin-1 text of the chunk: String.indexOf is an intrinsic, fast before the JIT has compiled this loop
        String text = new String(buf, 0, len, StandardCharsets.ISO_8859_1);
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
          Matcher m = pattern.matcher(text).region(i, Math.min(len, i + span));
          if (m.lookingAt()) {
            return m.group(1);
          }
        }
        if (got == 0) {
          return null;
        }
        keep = Math.min(len, span);
        System.arraycopy(buf, len - keep, buf, 0, keep);
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The CPU feature flags of {@code /proc/cpuinfo} ({@code flags} on x86, {@code Features} on ARM); empty elsewhere. */
  public static Set<String> cpuFlags() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        String l = line.toLowerCase(Locale.ROOT);
        if (l.startsWith("flags") || l.startsWith("features")) {
          int colon = l.indexOf(':');
          return new LinkedHashSet<>(List.of(l.substring(colon + 1).trim().split("\\s+")));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: nothing to compare against
    }
    return Set.of();
  }

  /** The widest vector ISA of a CPU with these flags that OpenBLAS has kernels for. */
  static Isa cpuIsa(Set<String> flags) {
    if (flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl")
        && flags.contains("avx512dq")) {
      return Isa.AVX512;
    }
    if (flags.contains("avx2") && flags.contains("fma")) {
      return Isa.AVX2;
    }
    if (flags.contains("avx")) {
      return Isa.AVX;
    }
    if (flags.contains("sve")) {
      return Isa.SVE;
    }
    if (flags.contains("asimd")) {
      return Isa.ASIMD;
    }
    return Isa.GENERIC;
  }

  /** The ISA a core name's kernels use, or null for a name this table does not know. */
  static Isa coreIsa(String core, boolean arm) {
    return core == null ? null : (arm ? ARM_CORES : X86_CORES).get(core.toLowerCase(Locale.ROOT));
  }

  /**
   * Why the kernels fall short of the CPU, or null when they do not (or it cannot be told: an unknown core name, a
   * CPU without the flags). E.g. "this CPU has AVX-512 but OpenBLAS runs its generic Prescott kernels".
   */
  static String shortfall(String core, Set<String> flags) {
    boolean arm = flags.contains("asimd") || flags.contains("sve");
    Isa have = cpuIsa(flags);
    Isa runs = coreIsa(core, arm);
    if (runs == null || runs.ordinal() >= have.ordinal()) {
      return null;
    }
    // on arm64 only an SVE CPU (Graviton3/4, Neoverse V1/V2/N2) on the generic ARMv8 kernels counts: OpenBLAS's
    // NEON kernels for older cores differ from the generic ones in tuning, not in the instructions they use
    if (arm && (runs != Isa.GENERIC || have != Isa.SVE)) {
      return null;
    }
    return "this CPU has " + have.label + " but OpenBLAS runs its " + (runs == Isa.GENERIC ? "generic" : runs.label)
        + " " + core + " kernels";
  }

  /** {@link #shortfall(String, Set)} for this CPU. */
  public static String shortfall(String core) {
    return shortfall(core, cpuFlags());
  }

  /** The ISA flags of this CPU worth naming in a log line, e.g. {@code [avx2, fma, avx512f]}. */
  static List<String> isaFlags(Set<String> flags) {
    List<String> named = new ArrayList<>();
    for (String f : new String[] {"avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "asimd",
        "sve"}) {
      if (flags.contains(f)) {
        named.add(f);
      }
    }
    return named;
  }
}
