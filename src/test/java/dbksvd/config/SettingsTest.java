package dbksvd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dbksvd.encode.MatchingPursuit;
import dbksvd.encode.OrthogonalMatchingPursuit;
import dbksvd.encode.RefitMatchingPursuit;
import dbksvd.loop.FitParams;
import dbksvd.loop.Init;
import dbksvd.update.Update;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

class SettingsTest {
  @TempDir Path tmp;

  @Test
  void flagsBeatSetBeatsFileBeatsReference() throws Exception {
    Path file = tmp.resolve("user.conf");
    Files.writeString(file, "dbksvd.fit { k = 7, atoms = 100, iterations = 9 }\n");
    Config c = Settings.load(file.toFile(), List.of("dbksvd.fit.atoms=200", "dbksvd.fit.encoder=omp"),
        Map.of("dbksvd.fit.atoms", 300));
    FitParams p = Settings.fitParams(c);
    assertEquals(300, p.m());
    assertEquals(7, p.k());
    assertEquals(9, p.iterations());
    assertEquals(new OrthogonalMatchingPursuit(7, 0), p.encoder());
    assertEquals(65536, p.batchSize()); // reference.conf
  }

  @Test
  void typedSettingsFromNames() {
    FitParams p = Settings.fitParams(Settings.load(null, List.of("dbksvd.fit.update=gauss-seidel",
        "dbksvd.fit.atom-batches=7", "dbksvd.fit.init=uniform", "dbksvd.fit.matryoshka=3",
        "dbksvd.fit.atoms=64", "dbksvd.fit.matryoshka-budgets=[8, 4, 4, 4]", "dbksvd.fit.rtol=0.05"), Map.of()));
    assertEquals(new Update.GaussSeidel(7), p.update());
    assertEquals(Init.UNIFORM, p.init());
    assertEquals(new FitParams.Matryoshka(3, List.of(8, 4, 4, 4)), p.matryoshka());
    assertEquals(new RefitMatchingPursuit(20, 0.05), p.encoder()); // the default encoder
    var e = assertThrows(IllegalArgumentException.class,
        () -> Settings.fitParams(Settings.load(null, List.of("dbksvd.fit.update=sgd"), Map.of())));
    assertEquals("update must be jacobi, gauss-seidel or jacobi-batches, got 'sgd'", e.getMessage());
    assertEquals(new Update.JacobiBatches(6, 2), Settings.fitParams(Settings.load(null, List.of(
        "dbksvd.fit.update=jacobi-batches", "dbksvd.fit.atom-batches=6", "dbksvd.fit.update-passes=2"), Map.of()))
        .update());
    e = assertThrows(IllegalArgumentException.class, () -> Settings.fitParams(Settings.load(null, List.of(
        "dbksvd.fit.update=jacobi-batches", "dbksvd.fit.matryoshka=3", "dbksvd.fit.atoms=64"), Map.of())));
    assertEquals("dbksvd.fit.update = jacobi-batches does not support Matryoshka groups (dbksvd.fit.matryoshka); "
        + "use jacobi or gauss-seidel with them", e.getMessage());
  }

  /** The builder's defaults are reference.conf's: code that builds FitParams without a config fits the same way. */
  @Test
  void builderDefaultsAreTheReferenceConf() {
    assertEquals(Settings.fitParams(Settings.load(null, List.of(), Map.of())), FitParams.defaults(4096, 20));
  }

  @Test
  void commandDefaultsSitBelowTheUser() {
    Config c = Settings.load(null, List.of("dbksvd.fit.k=5"), Map.of(),
        Map.of("dbksvd.fit.k", 3, "dbksvd.fit.atoms", 64));
    assertEquals(5, c.getInt("dbksvd.fit.k"));
    assertEquals(64, c.getInt("dbksvd.fit.atoms"));
  }

  @Test
  void unknownAndMalformedKeysAreRefused() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> Settings.load(null, List.of("dbksvd.fit.atomz=3"), Map.of()));
    assertTrue(e.getMessage().contains("unknown config key 'dbksvd.fit.atomz'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Settings.load(null, List.of("nonsense"), Map.of()));
    assertTrue(e.getMessage().contains("key=value"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Settings.fitParams(Settings.load(null, List.of("dbksvd.fit.k=many"), Map.of())));
    assertTrue(e.getMessage().contains("k"), e.getMessage());
    // Spark settings are free-form
    Config c = Settings.load(null, List.of("dbksvd.spark.conf.\"spark.executor.memory\"=8g"), Map.of());
    assertEquals("8g", c.getConfig("dbksvd.spark.conf").getString("\"spark.executor.memory\""));
  }

  @Test
  void jvmOptionsOfTheLauncherMatchThePom() throws Exception {
    String pom = Files.readString(Path.of("pom.xml"));
    Matcher m = Pattern.compile("<spark.jvm.options>(.*)</spark.jvm.options>").matcher(pom);
    assertTrue(m.find());
    List<String> fromPom = List.of(m.group(1).trim().split("\\s+"));
    List<String> fromConf = Files.readAllLines(Path.of("conf/jvm-options")).stream()
        .filter(l -> !l.isBlank() && !l.startsWith("#")).map(String::trim).toList();
    assertEquals(fromPom, fromConf);
    assertTrue(fromConf.contains("--add-modules=jdk.incubator.vector"));
  }

  /** encode / evaluate: the model's encoder unless dbksvd.encode.encoder / rtol say otherwise; k stays the model's. */
  @Test
  void encodeEncoderOverridesTheModelsOnlyWhenSet() {
    MatchingPursuit own = new MatchingPursuit(7, 0.25);
    assertEquals(own, Settings.encoderFor(Settings.load(null, List.of(), Map.of()), own));
    assertEquals(new dbksvd.encode.RefitMatchingPursuit(7, 0.25), Settings.encoderFor(Settings.load(null,
        List.of("dbksvd.encode.encoder=mp-refit"), Map.of()), own));
    assertEquals(new OrthogonalMatchingPursuit(7, 0.1), Settings.encoderFor(Settings.load(null,
        List.of("dbksvd.encode.encoder=omp"), Map.of("dbksvd.encode.rtol", 0.1)), own));
    assertEquals(new MatchingPursuit(7, 0), Settings.encoderFor(Settings.load(null,
        List.of("dbksvd.encode.rtol=0"), Map.of()), own));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.encoderFor(
        Settings.load(null, List.of("dbksvd.encode.encoder=ista"), Map.of()), own));
    assertTrue(e.getMessage().contains("mp, mp-refit, omp") && e.getMessage().contains("'ista'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Settings.encoderFor(
        Settings.load(null, List.of("dbksvd.encode.rtol=lots"), Map.of()), own));
  }
}
