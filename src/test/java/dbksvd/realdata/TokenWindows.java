package dbksvd.realdata;

import java.util.ArrayList;
import java.util.List;

/**
 * How a document of n tokens is read by a model that takes at most {@code content} tokens at a time (the window
 * length less [CLS] and [SEP]): windows every {@code stride} tokens, the last one moved back to end at n, and each
 * token emitted by exactly one window, the one whose centre is nearest, so that it sees at least
 * (content − stride) / 2 tokens on each side where the document has them.
 *
 * <p>Example, n = 300, content = 126, stride = 64: windows start at 0, 64, 128 and 174 (= 300 − 126; the next
 * regular start, 192, would run past the end). The boundaries lie halfway between neighbouring centres:
 * (0 + 64 + 126) / 2 = 95, (64 + 128 + 126) / 2 = 159, (128 + 174 + 126) / 2 = 214. So window [0, 126) emits tokens
 * [0, 95), [64, 190) emits [95, 159), [128, 254) emits [159, 214) and [174, 300) emits [214, 300): token 214 has
 * 40 tokens of context before it, token 213 has 40 after it. A document of n ≤ content tokens is one window.
 */
final class TokenWindows {
  private TokenWindows() {}

  /** Window [start, end) of the document's tokens; it emits the tokens [emitFrom, emitTo). */
  record Window(int start, int end, int emitFrom, int emitTo) {}

  static List<Window> plan(int n, int content, int stride) {
    if (content < 1 || stride < 1 || stride > content) {
      throw new IllegalArgumentException("need 1 <= stride <= content, got stride " + stride + ", content " + content);
    }
    List<Window> windows = new ArrayList<>();
    if (n <= 0) {
      return windows;
    }
    if (n <= content) {
      windows.add(new Window(0, n, 0, n));
      return windows;
    }
    List<Integer> starts = new ArrayList<>();
    for (int s = 0; s + content < n; s += stride) {
      starts.add(s);
    }
    starts.add(n - content);
    int from = 0;
    for (int i = 0; i < starts.size(); i++) {
      int s = starts.get(i);
      int to = i + 1 < starts.size() ? (s + starts.get(i + 1) + content) / 2 : n;
      windows.add(new Window(s, s + content, from, to));
      from = to;
    }
    return windows;
  }
}
