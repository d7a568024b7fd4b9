package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.linalg.BlasLibrary;
import dbksvd.spark.TestSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code dbksvd.blas.library} through the command line, in this JVM: a bad value ends in one line and exit 2 before
 * anything is written; a fit says which BLAS and core ran, on its {@code fit:} line and in model.json. (A file that
 * exists but does not load needs a fresh JVM: {@code BlasChoiceTest}.)
 */
class BlasSettingCliTest {
  @TempDir Path tmp;

  record Run(int code, String out, String err) {
    List<String> errors() {
      return err.lines().filter(l -> l.startsWith("dbksvd: error:")).toList();
    }
  }

  static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return new Run(Main.execute(args), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void aMissingLibraryFailsInOneLine() {
    Path out = tmp.resolve("data");
    String lib = tmp.resolve("nowhere/libopenblas.so.0").toString();
    Run r = run("generate", "--output", out.toString(), "--samples", "100", "--set", "dbksvd.blas.library=" + lib);
    assertEquals(2, r.code(), r::err);
    assertEquals(List.of("dbksvd: error: dbksvd.blas.library = " + lib + ": no such file"), r.errors(), r::err);
    assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    assertFalse(Files.exists(out), "nothing at the output path");
  }

  @Test
  void anUnknownWordFailsInOneLine() {
    Path out = tmp.resolve("data");
    Run r = run("generate", "--output", out.toString(), "--samples", "100", "--set", "dbksvd.blas.library=mkl");
    assertEquals(2, r.code(), r::err);
    assertEquals(List.of("dbksvd: error: dbksvd.blas.library must be bundled, system or the path of a BLAS shared "
        + "library (e.g. /usr/lib/x86_64-linux-gnu/libopenblas.so.0), got 'mkl'"), r.errors(), r::err);
    assertFalse(Files.exists(out));
  }

  /** The fit line and model.json name the implementation, OpenBLAS's version and core, and the library's source. */
  @Test
  void fitSaysWhichBlasAndCoreRan() throws Exception {
    TestSpark.session();
    String data = tmp.resolve("data").toString();
    String model = tmp.resolve("model").toString();
    Run g = run("generate", "--output", data, "--dim", "8", "--atoms", "12", "--k", "2", "--samples", "200",
        "--partitions", "2", "--seed", "3");
    assertEquals(0, g.code(), g::err);
    Run f = run("fit", "--input", data, "--output", model, "--atoms", "12", "--k", "2", "--batch-size", "100",
        "--iterations", "1");
    assertEquals(0, f.code(), f::err);
    BlasLibrary.Loaded l = BlasLibrary.current();
    String fitLine = f.out().lines().filter(x -> x.startsWith("fit:")).findFirst().orElse("");
    assertTrue(fitLine.endsWith("BLAS " + l.describe()), fitLine);
    JsonNode info = new ObjectMapper().readTree(Path.of(model, "model.json").toFile());
    assertEquals(l.describe(), info.path("blas").asText());
    if (l.version() != null) {
      assertTrue(l.describe().contains("OpenBLAS " + l.version() + " core " + l.core()), l.describe());
    }
  }
}
