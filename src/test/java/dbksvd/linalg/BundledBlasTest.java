package dbksvd.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * The OpenBLAS dbksvd ships is the BLAS a JVM loads when nothing else is asked (this test JVM asks nothing), it runs
 * kernels for the CPU, and its extraction to the cache directory survives JVMs racing for it.
 */
class BundledBlasTest {
  @TempDir Path tmp;

  /** The version of org.bytedeco:openblas on the class path (0.3.31-1.5.13), from its jar's Maven metadata. */
  static String artifactVersion() throws IOException {
    try (InputStream in = BundledBlasTest.class.getClassLoader()
        .getResourceAsStream("META-INF/maven/org.bytedeco/openblas/pom.properties")) {
      assertNotNull(in, "org.bytedeco:openblas on the test class path");
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    }
  }

  @Test
  void theBundledLibraryIsWhatLoadsByDefault() throws IOException {
    Assumptions.assumeTrue(BundledOpenBlas.platform() != null,
        "no bundled OpenBLAS for " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    BlasLibrary.Loaded l = BlasLibrary.current();
    assertTrue(l.isNative(), l::describe);
    assertEquals("dev.ludovic.netlib.blas.JNIBLAS", l.implementation());
    assertEquals("bundled", l.setting(), l::describe);
    assertEquals("bundled", l.source(), l::describe);
    assertNotNull(l.path(), "the library file in /proc/self/maps");
    assertEquals("libopenblas.so.0", l.path().getFileName().toString());
    assertTrue(l.path().getParent().getFileName().toString().startsWith("openblas-" + BundledOpenBlas.platform()),
        l.path().toString());
    assertTrue(Files.isSameFile(BundledOpenBlas.extract(), l.path()), "the extracted file is the loaded one");
    // the version written in the library is the artifact's
    assertTrue(artifactVersion().startsWith(l.version() + "-"), l.version() + " vs " + artifactVersion());
    assertNotNull(l.core(), "OpenBLAS's core name");
    assertFalse(l.core().isBlank());
    assertTrue(l.describe().contains("OpenBLAS " + l.version() + " core " + l.core() + " (bundled)"), l.describe());
    assertEquals(l.describe(), Blas.description());
    assertEquals(l.describe(), Blas.announce());
  }

  /**
   * On a CPU with AVX2 the bundled library runs AVX2 or AVX-512 kernels, not generic ones — unless the environment
   * names a core with OPENBLAS_CORETYPE, which it then follows.
   */
  @Test
  void theBundledLibraryRunsKernelsForThisCpu() {
    Set<String> flags = OpenBlasCore.cpuFlags();
    BlasLibrary.Loaded l = BlasLibrary.current();
    String coretype = System.getenv("OPENBLAS_CORETYPE");
    if (coretype != null && !coretype.isBlank()) {
      assertTrue(coretype.equalsIgnoreCase(l.core()), "OPENBLAS_CORETYPE=" + coretype + " but core " + l.core());
      return;
    }
    Assumptions.assumeTrue(flags.contains("avx2"), "this CPU has no AVX2 (flags: " + flags + ")");
    OpenBlasCore.Isa isa = OpenBlasCore.coreIsa(l.core(), false);
    assertNotNull(isa, "a core name this table knows: " + l.core());
    assertTrue(isa == OpenBlasCore.Isa.AVX2 || isa == OpenBlasCore.Isa.AVX512,
        "core " + l.core() + " runs " + isa + " kernels on a CPU with AVX2");
    assertNull(l.shortfall(), l.shortfall());
    if (OpenBlasCore.cpuIsa(flags) == OpenBlasCore.Isa.AVX512) {
      assertEquals(OpenBlasCore.Isa.AVX512, isa, "core " + l.core() + " on a CPU with AVX-512");
    }
  }

  /** OpenBLAS takes OPENBLAS_CORETYPE from the environment (DYNAMIC_ARCH), and the core name reported follows it. */
  @Test
  void openblasCoretypeIsHonoured() {
    Assumptions.assumeTrue("linux-x86_64".equals(BundledOpenBlas.platform()), "x86-64 core names");
    Path lib = BundledOpenBlas.extract();
    assertEquals("Prescott", OpenBlasCore.coreName(lib, Map.of("OPENBLAS_CORETYPE", "Prescott")));
    assertEquals("Haswell", OpenBlasCore.coreName(lib, Map.of("OPENBLAS_CORETYPE", "Haswell")));
  }

  /**
   * Both bundled builds, read as files on any host: the x86-64 one chooses its core at load time (DYNAMIC_ARCH); the
   * arm64 one is compiled for generic ARMv8 kernels, which its configuration names and a Graviton-class CPU is told.
   */
  @Test
  void theBuildsNameTheirCores() throws IOException {
    String version = artifactVersion();
    for (String platform : new String[] {"linux-x86_64", "linux-arm64"}) {
      Path lib = tmp.resolve(platform + "-libopenblas.so.0");
      try (InputStream in = getClass().getClassLoader()
          .getResourceAsStream("org/bytedeco/openblas/" + platform + "/libopenblas.so.0")) {
        assertNotNull(in, platform);
        Files.copy(in, lib);
      }
      assertTrue(version.startsWith(OpenBlasCore.version(lib) + "-"), platform + ": " + OpenBlasCore.version(lib));
      if (platform.equals("linux-x86_64")) {
        assertNull(OpenBlasCore.compiledCore(lib), "DYNAMIC_ARCH: the core is chosen at load time");
      } else {
        assertEquals("ARMV8", OpenBlasCore.compiledCore(lib));
        assertEquals("this CPU has SVE but OpenBLAS runs its generic ARMV8 kernels",
            OpenBlasCore.shortfall("ARMV8", Set.of("fp", "asimd", "sve")));
      }
    }
  }

  @Test
  void genericKernelsOnAWiderCpuAreAShortfall() {
    Set<String> avx512 = Set.of("sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq");
    Set<String> avx2 = Set.of("sse2", "avx", "avx2", "fma");
    assertEquals("this CPU has AVX-512 but OpenBLAS runs its generic Prescott kernels",
        OpenBlasCore.shortfall("Prescott", avx512));
    assertEquals("this CPU has AVX-512 but OpenBLAS runs its AVX2 Haswell kernels",
        OpenBlasCore.shortfall("Haswell", avx512));
    assertEquals("this CPU has AVX2 but OpenBLAS runs its generic Nehalem kernels",
        OpenBlasCore.shortfall("Nehalem", avx2));
    assertEquals("this CPU has AVX2 but OpenBLAS runs its AVX Sandybridge kernels",
        OpenBlasCore.shortfall("Sandybridge", avx2));
    assertNull(OpenBlasCore.shortfall("Cooperlake", avx512));
    assertNull(OpenBlasCore.shortfall("SkylakeX", avx512));
    assertNull(OpenBlasCore.shortfall("Zen", avx2));
    assertNull(OpenBlasCore.shortfall("Haswell", avx2));
    assertNull(OpenBlasCore.shortfall("Prescott", Set.of("sse2", "sse3")), "nothing wider to run");
    assertNull(OpenBlasCore.shortfall("SomeNewCore", avx512), "an unknown name is not judged");
    Set<String> graviton3 = Set.of("fp", "asimd", "sve", "sve2");
    assertEquals("this CPU has SVE but OpenBLAS runs its generic armv8 kernels",
        OpenBlasCore.shortfall("armv8", graviton3));
    assertNull(OpenBlasCore.shortfall("neoversen1", graviton3), "tuned NEON kernels");
    assertNull(OpenBlasCore.shortfall("armv8", Set.of("fp", "asimd")), "Graviton2: no SVE to miss");
    assertNull(OpenBlasCore.shortfall("neoversev1", graviton3));
    // the CPU of this test: whatever it has, the loaded library does not fall short of it
    assertNull(OpenBlasCore.shortfall(BlasLibrary.current().core()));
  }

  @Test
  void settingsAreCheckedInOneLine() throws IOException {
    assertEquals("bundled", BlasLibrary.check("bundled"));
    assertEquals("system", BlasLibrary.check(" System "));
    IllegalArgumentException word = assertThrows(IllegalArgumentException.class, () -> BlasLibrary.check("openblas"));
    assertEquals("dbksvd.blas.library must be bundled, system or the path of a BLAS shared library (e.g. "
        + "/usr/lib/x86_64-linux-gnu/libopenblas.so.0), got 'openblas'", word.getMessage());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> BlasLibrary.check(tmp.resolve("no/libopenblas.so.0").toString()));
    assertEquals("dbksvd.blas.library = " + tmp.resolve("no/libopenblas.so.0") + ": no such file",
        missing.getMessage());
    IllegalArgumentException dir = assertThrows(IllegalArgumentException.class,
        () -> BlasLibrary.check(tmp.toString()));
    assertTrue(dir.getMessage().endsWith(": not a readable file"), dir.getMessage());
    Path file = Files.writeString(tmp.resolve("libx.so"), "x");
    assertEquals(file.toString(), BlasLibrary.check(tmp.resolve("./libx.so").toString()));
  }

  /**
   * Eight extractions into one fresh cache directory at once (as executor JVMs starting together on a host): all end
   * with the same complete directory and leave no temporary one; a later one finds it and writes nothing.
   */
  @Test
  void racingExtractionsAgreeOnOneCompleteDirectory() throws Exception {
    List<BundledOpenBlas.Resource> res = BundledOpenBlas.resources();
    Assumptions.assumeFalse(res.isEmpty(), "no bundled OpenBLAS for this platform");
    Path root = tmp.resolve("cache");
    int racers = 8;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    List<Future<Path>> got = new ArrayList<>();
    try {
      for (int i = 0; i < racers; i++) {
        got.add(pool.submit(() -> {
          start.await();
          return BundledOpenBlas.extractInto(root, "openblas-test", res);
        }));
      }
      start.countDown();
      for (Future<Path> f : got) {
        assertEquals(root.resolve("openblas-test"), f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    Path dir = root.resolve("openblas-test");
    for (BundledOpenBlas.Resource r : res) {
      assertEquals(r.size(), Files.size(dir.resolve(r.name())), r.name());
    }
    try (Stream<Path> s = Files.list(root)) {
      assertEquals(List.of(dir), s.toList(), "only the final directory is left");
    }
    Path lib = dir.resolve(BundledOpenBlas.LIBRARY);
    FileTime written = Files.getLastModifiedTime(lib);
    Files.setLastModifiedTime(lib, FileTime.fromMillis(written.toMillis() - 60_000));
    FileTime aged = Files.getLastModifiedTime(lib);
    assertEquals(dir, BundledOpenBlas.extractInto(root, "openblas-test", res));
    assertEquals(aged, Files.getLastModifiedTime(lib), "found, not written again");
    // a directory someone damaged (a file cut short) is replaced by a complete one
    Files.write(lib, new byte[10]);
    assertEquals(dir, BundledOpenBlas.extractInto(root, "openblas-test", res));
    assertEquals(res.get(res.size() - 1).size(), Files.size(lib));
    // and what it extracted is OpenBLAS, the version the jar says
    assertTrue(artifactVersion().startsWith(OpenBlasCore.version(lib) + "-"));
  }
}
