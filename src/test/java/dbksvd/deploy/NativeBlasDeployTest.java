package dbksvd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The jar carries the native BLAS, so no deployment installs one: no apt step for OpenBLAS in an image, no Databricks
 * init script, and bin/setup installs nothing unless asked to.
 */
class NativeBlasDeployTest {
  static final Path PROJECT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));

  @Test
  void noDeploymentInstallsOpenBlas() throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> s = Files.walk(PROJECT.resolve("deploy"))) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        String text = Files.readString(p);
        for (String bad : new String[] {"libopenblas0", "init-openblas", "init_scripts", "apt-get install"}) {
          if (text.contains(bad)) {
            found.add(PROJECT.relativize(p) + ": " + bad);
          }
        }
      }
    }
    assertTrue(found.isEmpty(), "deploy/ installs a BLAS the jar already carries: " + found);
    String docker = Files.readString(PROJECT.resolve("deploy/kubernetes/Dockerfile"));
    assertTrue(docker.contains("dbksvd.linalg.BlasLibrary"), "the image loads the jar's OpenBLAS once as a check");
  }

  @Test
  void setupInstallsNothingByDefault() throws Exception {
    Process p = new ProcessBuilder("bash", PROJECT.resolve("bin/setup").toString()).redirectErrorStream(true)
        .start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    assertFalse(out.contains("installing"), out);
    String setup = Files.readString(PROJECT.resolve("bin/setup"));
    // apt only behind --system-blas
    int apt = setup.indexOf("apt-get install");
    int gate = setup.indexOf("[ \"$system\" = 1 ] || exit 0");
    assertTrue(gate > 0 && apt > gate, "apt-get only after the --system-blas gate");
  }
}
