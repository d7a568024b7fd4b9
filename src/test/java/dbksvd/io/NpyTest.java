package dbksvd.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

class NpyTest {
  @Test
  void roundTripAndHeaderLayout() throws IOException {
    float[] data = new float[3 * 5];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) (i * 0.5 - 3);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Npy.write(out, 3, 5, data);
    byte[] bytes = out.toByteArray();
    int headerLen = (bytes[8] & 0xff) | ((bytes[9] & 0xff) << 8);
    assertEquals(0, (10 + headerLen) % 64, "data must start 64-byte aligned");
    String header = new String(bytes, 10, headerLen, StandardCharsets.US_ASCII);
    assertTrue(header.contains("'shape': (3, 5)") && header.endsWith("\n"), header);
    assertEquals(10 + headerLen + 4 * 15, bytes.length);
    Npy.Matrix m = Npy.read(new ByteArrayInputStream(bytes), "t");
    assertEquals(3, m.rows());
    assertEquals(5, m.cols());
    assertArrayEquals(data, m.data());
  }

  @Test
  void refusesOtherFiles() {
    var e = assertThrows(IOException.class,
        () -> Npy.read(new ByteArrayInputStream("hello world, not npy".getBytes()), "x.npy"));
    assertTrue(e.getMessage().contains("not a .npy"));
  }
}
