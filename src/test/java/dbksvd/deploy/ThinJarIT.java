package dbksvd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The jar for spark-submit ({@code target/dbksvd-*.jar}, after package) is thin and whole: no Spark, Scala, Hadoop
 * or AWS SDK classes (the cluster provides them), Typesafe Config, picocli and JFreeChart inside and relocated, and every class
 * that any class of the jar refers to is in the jar, in the JDK or in Spark's run time ({@code target/classpath.txt}
 * less those three, as a Spark distribution is) — except JavaCPP's CUDA classes, which only the optional CUDA backend
 * ({@code dbksvd.gemm.CudaGemm}, loaded by reflection) refers to and only {@code -Pcuda} builds ship. Beside the
 * classes it carries the native BLAS the executors load (no apt step on a node, no {@code --packages}): OpenBLAS's
 * shared libraries for linux-x86_64 and linux-arm64 from Maven Central's {@code org.bytedeco:openblas} (with the GCC
 * run-time libraries they need), 17.5 MB compressed of a jar of about 20 MB, and nothing else of that artifact.
 */
class ThinJarIT {
  static Path project;
  static Path jar;
  static Set<String> entries = new TreeSet<>();

  @BeforeAll
  static void listJar() throws IOException {
    project = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    try (Stream<Path> s = Files.list(project.resolve("target"))) {
      jar = s.filter(p -> p.getFileName().toString().matches("dbksvd-[^/]*\\.jar")
          && !p.getFileName().toString().matches(".*-(sources|tests|javadoc)\\.jar")).findFirst()
          .orElseThrow(() -> new IllegalStateException("no target/dbksvd-*.jar: run mvn package first"));
    }
    try (JarFile jf = new JarFile(jar.toFile())) {
      jf.stream().map(JarEntry::getName).forEach(entries::add);
    }
  }

  @Test
  void holdsNoClassOfTheCluster() {
    List<String> foreign = new ArrayList<>();
    for (String e : entries) {
      if (e.endsWith(".class") && !e.startsWith("dbksvd/")) {
        foreign.add(e);
      }
    }
    assertTrue(foreign.isEmpty(), "classes outside dbksvd/ (Spark, Scala, Hadoop, AWS SDK, unrelocated "
        + "libraries): " + foreign.subList(0, Math.min(20, foreign.size())));
    for (String prefix : List.of("org/apache/spark/", "scala/", "org/apache/hadoop/", "software/amazon/",
        "com/typesafe/config/", "picocli/", "org/jfree/", "org/gaul/")) {
      assertTrue(entries.stream().noneMatch(e -> e.startsWith(prefix)), prefix + " in the jar");
    }
  }

  @Test
  void holdsDbksvdAndItsRelocatedLibraries() throws IOException {
    for (String e : List.of("dbksvd/cli/Main.class", "dbksvd/spark/SparkFit.class", "dbksvd/io/ModelDir.class",
        "reference.conf", "dbksvd/shaded/com/typesafe/config/ConfigFactory.class",
        "dbksvd/shaded/picocli/CommandLine.class", "dbksvd/shaded/org/jfree/chart/JFreeChart.class")) {
      assertTrue(entries.contains(e), e + " missing from " + jar);
    }
    try (JarFile jf = new JarFile(jar.toFile())) {
      assertEquals("dbksvd.cli.Main", jf.getManifest().getMainAttributes().getValue("Main-Class"));
    }
  }

  /**
   * The native BLAS for both Linux platforms, exactly the files {@code dbksvd.linalg.BundledOpenBlas} extracts: not
   * JavaCPP's JNI bindings of the same artifact (47 MB), its headers or classes.
   */
  @Test
  void carriesOpenBlasForLinuxX86AndArm() throws IOException {
    Set<String> openblas = new TreeSet<>();
    for (String e : entries) {
      if (e.startsWith("org/bytedeco/openblas/") && !e.endsWith("/")) {
        openblas.add(e);
      }
    }
    assertEquals(new TreeSet<>(List.of(
        "org/bytedeco/openblas/linux-x86_64/libopenblas.so.0",
        "org/bytedeco/openblas/linux-x86_64/libgfortran.so.5",
        "org/bytedeco/openblas/linux-x86_64/libquadmath.so.0",
        "org/bytedeco/openblas/linux-arm64/libopenblas.so.0",
        "org/bytedeco/openblas/linux-arm64/libgfortran.so.5")), openblas);
    long compressed = 0;
    try (JarFile jf = new JarFile(jar.toFile())) {
      for (String e : openblas) {
        JarEntry je = jf.getJarEntry(e);
        assertTrue(je.getSize() > 0, e);
        compressed += je.getCompressedSize();
      }
    }
    long size = Files.size(jar);
    // the libraries are most of the jar; the classes and relocated libraries are the rest (about 3 MB)
    assertTrue(compressed > size / 2 && size - compressed < 10_000_000L,
        "OpenBLAS " + compressed + " bytes compressed of a jar of " + size);
  }

  @Test
  void everyClassItRefersToIsInTheJarTheJdkOrSpark() throws IOException {
    Set<String> available = new HashSet<>();
    for (String e : entries) {
      available.add(e);
    }
    String cp = Files.readString(project.resolve("target/classpath.txt")).trim();
    int sparkJars = 0;
    for (String entry : cp.split(File.pathSeparator)) {
      String name = Path.of(entry).getFileName().toString();
      boolean ours = name.startsWith("config-") && entry.contains("typesafe") || name.startsWith("picocli-")
          || name.startsWith("jfreechart-");
      if (ours || !entry.endsWith(".jar")) {
        continue;
      }
      sparkJars++;
      try (JarFile jf = new JarFile(entry)) {
        jf.stream().map(JarEntry::getName).filter(n -> n.endsWith(".class")).forEach(available::add);
      }
    }
    assertTrue(sparkJars > 100, "Spark's run time has " + sparkJars + " jars");

    Set<String> missing = new TreeSet<>();
    int classes = 0;
    int cudaRefs = 0;
    try (JarFile jf = new JarFile(jar.toFile())) {
      for (JarEntry e : jf.stream().filter(e -> e.getName().endsWith(".class")).toList()) {
        classes++;
        byte[] bytes = jf.getInputStream(e).readAllBytes();
        for (String ref : classReferences(bytes)) {
          String file = ref + ".class";
          boolean cudaOnly = ref.startsWith("org/bytedeco/");
          if (cudaOnly && !e.getName().startsWith("dbksvd/gemm/CudaGemm")) {
            missing.add(ref + " (from " + e.getName() + ": only the CUDA backend may refer to JavaCPP)");
          } else if (cudaOnly) {
            cudaRefs++; // the optional CUDA backend, loaded by reflection; its classes ship only with -Pcuda
          } else if (!available.contains(file) && ClassLoader.getPlatformClassLoader().getResource(file) == null) {
            missing.add(ref + " (from " + e.getName() + ")");
          }
        }
      }
    }
    assertTrue(missing.isEmpty(), "referred to but nowhere: " + missing);
    assertTrue(classes > 50, "classes in the jar: " + classes);
    assertTrue(cudaRefs > 0, "the CUDA backend (dbksvd.gemm.CudaGemm) is in the jar");
  }

  /** The classes a class file names in its constant pool (CONSTANT_Class entries), arrays unwrapped. */
  static Set<String> classReferences(byte[] classFile) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException("not a class file");
    }
    in.readUnsignedShort(); // minor
    in.readUnsignedShort(); // major
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    int[] classNameIndex = new int[count];
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 7 -> classNameIndex[i] = in.readUnsignedShort();
        case 8, 16, 19, 20 -> in.readUnsignedShort();
        case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt();
        case 5, 6 -> {
          in.readLong();
          i++; // takes two slots
        }
        case 15 -> {
          in.readUnsignedByte();
          in.readUnsignedShort();
        }
        default -> throw new IOException("constant pool tag " + tag + " at " + i);
      }
    }
    Set<String> refs = new TreeSet<>();
    for (int i = 1; i < count; i++) {
      if (classNameIndex[i] != 0) {
        String name = utf8[classNameIndex[i]];
        if (name.startsWith("[")) { // an array descriptor: keep its element class, if any
          name = name.replaceFirst("^\\[+", "");
          if (!name.startsWith("L")) {
            continue;
          }
          name = name.substring(1, name.length() - 1);
        }
        refs.add(name);
      }
    }
    return refs;
  }

  @Test
  void constantPoolReaderFindsTheReferencesOfAKnownClass() throws IOException {
    byte[] self;
    try (var in = ThinJarIT.class.getResourceAsStream("ThinJarIT.class")) {
      self = in.readAllBytes();
    }
    Set<String> refs = classReferences(self);
    assertTrue(refs.containsAll(Arrays.asList("java/util/jar/JarFile", "java/io/DataInputStream",
        "org/junit/jupiter/api/Assertions")), refs.toString());
  }
}
