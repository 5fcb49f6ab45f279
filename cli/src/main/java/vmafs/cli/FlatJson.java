package vmafs.cli;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads one JSON object whose values are all scalars (strings, numbers, booleans, null) or arrays
 * of strings: what a mount's status attribute and an NBD server's status socket hold ({@link
 * StatusCommand}). Strict: anything else is an error, not a guess, since the text comes from
 * whatever server answers on a mount point or a socket.
 */
final class FlatJson {
  private final String s;
  private int i;

  private FlatJson(String s) {
    this.s = s;
  }

  static Map<String, Object> parse(String text) throws IOException {
    FlatJson p = new FlatJson(text);
    Map<String, Object> out = new LinkedHashMap<>();
    p.expect('{');
    if (!p.peek('}')) {
      do {
        String key = p.string();
        p.expect(':');
        out.put(key, p.value());
      } while (p.peek(','));
    }
    p.expect('}');
    p.space();
    if (p.i != text.length()) {
      throw p.error("text after the object");
    }
    return out;
  }

  private Object value() throws IOException {
    space();
    if (i >= s.length()) {
      throw error("a value");
    }
    char c = s.charAt(i);
    if (c == '"') {
      return string();
    }
    if (c == '[') {
      return strings();
    }
    for (String word : new String[] {"true", "false", "null"}) {
      if (s.startsWith(word, i)) {
        i += word.length();
        return word.equals("null") ? null : Boolean.valueOf(word);
      }
    }
    int start = i;
    while (i < s.length() && "+-.eE0123456789".indexOf(s.charAt(i)) >= 0) {
      i++;
    }
    String num = s.substring(start, i);
    try {
      return num.matches("-?\\d{1,18}") ? (Object) Long.parseLong(num) : (Object) Double.parseDouble(num);
    } catch (NumberFormatException e) {
      throw error("a number");
    }
  }

  /** An array of strings (an NBD server's addresses): the one kind of array a status holds. */
  private java.util.List<Object> strings() throws IOException {
    expect('[');
    java.util.List<Object> out = new java.util.ArrayList<>();
    if (!peek(']')) {
      do {
        space();
        out.add(string());
      } while (peek(','));
      expect(']');
    }
    return out;
  }

  private String string() throws IOException {
    expect('"');
    StringBuilder sb = new StringBuilder();
    while (i < s.length()) {
      char c = s.charAt(i++);
      if (c == '"') {
        return sb.toString();
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (i >= s.length()) {
        break;
      }
      char e = s.charAt(i++);
      switch (e) {
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'u' -> {
          if (i + 4 > s.length()) {
            throw error("a \\u escape");
          }
          try {
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          } catch (NumberFormatException x) {
            throw error("a \\u escape");
          }
          i += 4;
        }
        default -> sb.append(e);
      }
    }
    throw error("the end of a string");
  }

  private boolean peek(char c) {
    space();
    if (i < s.length() && s.charAt(i) == c) {
      i++;
      return true;
    }
    return false;
  }

  private void expect(char c) throws IOException {
    if (!peek(c)) {
      throw error("'" + c + "'");
    }
  }

  private void space() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
  }

  private IOException error(String wanted) {
    return new IOException("the status is not a flat JSON object: expected " + wanted
        + " at character " + i);
  }
}
