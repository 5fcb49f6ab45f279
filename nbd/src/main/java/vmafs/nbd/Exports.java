package vmafs.nbd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The server's exports by name; the empty name (the "default export") means the only one, if one. */
final class Exports {
  private final Map<String, Export> byName = new LinkedHashMap<>();

  Exports(List<Export> exports) {
    for (Export e : exports) {
      if (byName.putIfAbsent(e.name(), e) != null) {
        throw new IllegalArgumentException("two exports named '" + e.name() + "'");
      }
    }
  }

  List<Export> all() {
    return List.copyOf(byName.values());
  }

  /** The export a client means by {@code name}, or null. */
  Export find(String name) {
    if (name.isEmpty()) {
      return byName.size() == 1 ? byName.values().iterator().next() : null;
    }
    return byName.get(name);
  }

  /** Why {@code name} finds nothing, for the client's error message. */
  String unknown(String name) {
    String names = byName.keySet().stream().collect(Collectors.joining(", "));
    if (name.isEmpty()) {
      return "this server has several exports; name one: " + names;
    }
    return "no export named '" + name + "'; the exports are: " + names;
  }
}
