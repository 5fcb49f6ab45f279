package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * docs/json.md as the schema of each command's {@code --json}: its table for a command lists every
 * field ({@code devices[].name} for each element of {@code devices}) with its type. {@link #check}
 * parses an output strictly (Jackson) and fails on a missing, undocumented or mistyped field.
 */
public final class JsonSchema {
  private static final Path DOC = Path.of(System.getProperty("vmafs.root", "..")).resolve("docs/json.md");
  private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| ([a-z ]+) \\|");

  private final String command;
  private final Map<String, String> fields;

  private JsonSchema(String command, Map<String, String> fields) {
    this.command = command;
    this.fields = fields;
  }

  /** The table under {@code ## `vmafs COMMAND --json`}. */
  public static JsonSchema of(String command) {
    List<String> lines;
    try {
      lines = Files.readAllLines(DOC);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String heading = "## `vmafs " + command + " --json`";
    int at = lines.indexOf(heading);
    assertTrue(at >= 0, "docs/json.md has no section " + heading);
    Map<String, String> fields = new LinkedHashMap<>();
    for (int i = at + 1; i < lines.size() && !lines.get(i).startsWith("## "); i++) {
      Matcher m = ROW.matcher(lines.get(i));
      if (m.find()) {
        fields.put(m.group(1), m.group(2).trim());
      }
    }
    assertFalse(fields.isEmpty(), "no fields documented under " + heading);
    return new JsonSchema(command, fields);
  }

  /** Parses {@code json} and checks it against the documented fields; returns the parsed tree. */
  public JsonNode check(String json) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new AssertionError(command + " --json printed invalid JSON: " + e.getMessage() + "\n" + json, e);
    }
    assertTrue(root != null && root.isObject(), command + " --json must print one object: " + json);
    walk("", root);
    for (String field : fields.keySet()) {
      // a documented field must be there, unless it is inside an array that is empty here
      assertTrue(present(root, field), command + " --json lacks the documented field " + field + ": " + json);
    }
    return root;
  }

  private void walk(String prefix, JsonNode node) {
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
        checkType(path, e.getValue());
        walk(path, e.getValue());
      }
    } else if (node.isArray()) {
      for (JsonNode element : node) {
        checkType(prefix + "[]", element);
        walk(prefix + "[]", element);
      }
    }
  }

  private void checkType(String path, JsonNode value) {
    if (path.endsWith("[]") && !fields.containsKey(path) && (value.isObject() || value.isArray())) {
      return; // an array of objects: its elements' fields are documented, not the element
    }
    String type = fields.get(path);
    assertNotNull(type, command + " --json has a field docs/json.md does not document: " + path);
    boolean nullable = type.endsWith(" or null");
    String base = nullable ? type.substring(0, type.length() - " or null".length()) : type;
    if (value.isNull()) {
      assertTrue(nullable, path + " is null but documented as " + type);
      return;
    }
    boolean ok = switch (base) {
      case "string" -> value.isTextual();
      case "number" -> value.isNumber();
      case "boolean" -> value.isBoolean();
      case "array" -> value.isArray();
      case "object" -> value.isObject();
      default -> throw new AssertionError("docs/json.md: unknown type '" + type + "' for " + path);
    };
    assertTrue(ok, path + " is " + value.getNodeType() + " but documented as " + type);
  }

  private static boolean present(JsonNode node, String path) {
    if (path.isEmpty()) {
      return true;
    }
    int dot = path.indexOf('.');
    String head = dot < 0 ? path : path.substring(0, dot);
    String rest = dot < 0 ? "" : path.substring(dot + 1);
    boolean element = head.endsWith("[]");
    String name = element ? head.substring(0, head.length() - 2) : head;
    JsonNode child = name.isEmpty() ? node : node.get(name);
    if (child == null) {
      return false;
    }
    if (child.isNull() && !rest.isEmpty()) {
      return true; // an object documented "or null" is null here: its fields cannot be present
    }
    if (!element) {
      return present(child, rest);
    }
    if (!child.isArray()) {
      return false;
    }
    for (JsonNode e : child) {
      if (!present(e, rest)) {
        return false;
      }
    }
    return true;
  }
}
