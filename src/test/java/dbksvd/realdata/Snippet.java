package dbksvd.realdata;

/**
 * The text column: a token in its context, a few words either side, the token's characters in brackets and
 * whitespace collapsed, e.g. for the piece "##rno" of "errno" in perror(3), with 6 words:
 * {@code … to the current value of er[rno] and a new-line. To be of …}. A part of the word before or after the
 * token counts as a word. "…" marks text cut off.
 */
final class Snippet {
  private Snippet() {}

  static String around(String text, int start, int end, int words) {
    int a = start;
    for (int w = 0; w < words && a > 0; w++) {
      int p = a;
      while (p > 0 && Character.isWhitespace(text.charAt(p - 1))) {
        p--;
      }
      while (p > 0 && !Character.isWhitespace(text.charAt(p - 1))) {
        p--;
      }
      a = p;
    }
    int b = end;
    for (int w = 0; w < words && b < text.length(); w++) {
      int p = b;
      while (p < text.length() && Character.isWhitespace(text.charAt(p))) {
        p++;
      }
      while (p < text.length() && !Character.isWhitespace(text.charAt(p))) {
        p++;
      }
      b = p;
    }
    StringBuilder s = new StringBuilder();
    if (a > 0) {
      s.append("… ");
    }
    append(s, text, a, start);
    s.append('[');
    append(s, text, start, end);
    s.append(']');
    append(s, text, end, b);
    if (b < text.length()) {
      s.append(" …");
    }
    return s.toString().strip();
  }

  private static void append(StringBuilder s, String text, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (Character.isWhitespace(c)) {
        if (s.length() > 0 && s.charAt(s.length() - 1) != ' ') {
          s.append(' ');
        }
      } else {
        s.append(c);
      }
    }
  }
}
