package dbksvd.io;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format (version 1.0) for 2-D little-endian float32 arrays in C order, as numpy.load reads them.
 * A dictionary is stored as shape (m, d): one atom per row, which is D (d × m, column-major) byte for byte.
 */
public final class Npy {
  private Npy() {}

  /** A 2-D float32 array: rows × cols, row-major data. */
  public record Matrix(int rows, int cols, float[] data) {}

  public static void write(OutputStream out, int rows, int cols, float[] data) throws IOException {
    if (data.length != (long) rows * cols) {
      throw new IllegalArgumentException("data has " + data.length + " floats, shape is " + rows + "x" + cols);
    }
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    int total = 10 + dict.length() + 1;
    int pad = (64 - total % 64) % 64;
    StringBuilder header = new StringBuilder(dict);
    header.append(" ".repeat(pad)).append('\n');
    byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
    ByteArrayOutputStream pre = new ByteArrayOutputStream();
    pre.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    pre.write(h.length & 0xff);
    pre.write((h.length >> 8) & 0xff);
    pre.write(h);
    out.write(pre.toByteArray());
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : data) {
      if (!buf.hasRemaining()) {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
      buf.putFloat(v);
    }
    out.write(buf.array(), 0, buf.position());
  }

  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\((\\d+),\\s*(\\d+)\\s*,?\\s*\\)");

  public static Matrix read(InputStream in, String name) throws IOException {
    DataInputStream din = new DataInputStream(in);
    byte[] magic = new byte[8];
    din.readFully(magic);
    if ((magic[0] & 0xff) != 0x93 || magic[1] != 'N' || magic[2] != 'U' || magic[3] != 'M' || magic[4] != 'P'
        || magic[5] != 'Y') {
      throw new IOException(name + " is not a .npy file");
    }
    int major = magic[6];
    int hlen;
    if (major == 1) {
      hlen = (din.readUnsignedByte()) | (din.readUnsignedByte() << 8);
    } else {
      hlen = din.readUnsignedByte() | (din.readUnsignedByte() << 8) | (din.readUnsignedByte() << 16)
          | (din.readUnsignedByte() << 24);
    }
    byte[] hb = new byte[hlen];
    din.readFully(hb);
    String header = new String(hb, StandardCharsets.US_ASCII);
    if (!header.contains("'descr': '<f4'")) {
      throw new IOException(name + ": expected little-endian float32 ('<f4'), header is " + header.trim());
    }
    if (header.contains("'fortran_order': True")) {
      throw new IOException(name + ": Fortran-ordered arrays are not supported");
    }
    Matcher mt = SHAPE.matcher(header);
    if (!mt.find()) {
      throw new IOException(name + ": expected a 2-D array, header is " + header.trim());
    }
    int rows = Integer.parseInt(mt.group(1));
    int cols = Integer.parseInt(mt.group(2));
    float[] data = new float[rows * cols];
    byte[] raw = new byte[1 << 16];
    int i = 0;
    while (i < data.length) {
      int want = Math.min(raw.length, (data.length - i) * 4);
      din.readFully(raw, 0, want);
      ByteBuffer bb = ByteBuffer.wrap(raw, 0, want).order(ByteOrder.LITTLE_ENDIAN);
      for (int t = 0; t < want / 4; t++) {
        data[i++] = bb.getFloat();
      }
    }
    return new Matrix(rows, cols, data);
  }
}
