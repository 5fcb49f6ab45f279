package vmafs.cli;

import static picocli.CommandLine.Model.UsageMessageSpec.*;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The {@code --help} layout: every section wrapped at the terminal width, at spaces only.
 *
 * <p>picocli wraps with {@link java.text.BreakIterator#getLineInstance()}, which breaks
 * {@code --sparse} after its dashes, {@code e.g.} after the first dot and
 * {@code disk-<devname>.raw} after {@code <devname>.}: ragged, and wrong to copy from. Here a line
 * breaks only where the text has a space; a word longer than the line stays whole.
 *
 * <p>Text conventions for the annotations: each {@code description}/{@code footer} element is one
 * paragraph ({@code ""} is a blank line) and is never broken by hand; an element that starts with
 * two spaces is a command example, printed as is; one that starts with {@code "- "} is a list item.
 * The header is the command's one-sentence summary, also shown in {@code vmafs --help}.
 */
final class HelpLayout {
  /** The widest an option column gets before its description moves to the next line. */
  private static final int MAX_LABEL_COLUMN = 30;
  private static final String INDENT = "  ";
  /** The footer of every command: examples. */
  private static final String EXAMPLES = "Examples";

  private HelpLayout() {}

  /** Installs the layout on {@code cl} and all its subcommands. */
  static void install(CommandLine cl) {
    if (cl.getCommandSpec().usageMessage().footer().length > 0) {
      // Rendered by the footer section below; picocli's man page generator needs it to show the footer.
      cl.getCommandSpec().usageMessage().footerHeading(EXAMPLES);
    }
    Map<String, CommandLine.IHelpSectionRenderer> m = cl.getHelpSectionMap();
    m.put(SECTION_KEY_HEADER_HEADING, h -> "");
    m.put(SECTION_KEY_HEADER, h -> paragraphs(h.commandSpec().usageMessage().header(), width(h), ""));
    m.put(SECTION_KEY_SYNOPSIS_HEADING, h -> h.commandSpec().usageMessage().header().length > 0 ? "\n" : "");
    m.put(SECTION_KEY_SYNOPSIS, HelpLayout::synopsis);
    m.put(SECTION_KEY_DESCRIPTION_HEADING, h -> "");
    m.put(SECTION_KEY_DESCRIPTION, h -> section(null, paragraphs(h.commandSpec().usageMessage().description(), width(h), "")));
    m.put(SECTION_KEY_PARAMETER_LIST_HEADING, h -> "");
    m.put(SECTION_KEY_PARAMETER_LIST, HelpLayout::parameters);
    m.put(SECTION_KEY_OPTION_LIST_HEADING, h -> "");
    m.put(SECTION_KEY_OPTION_LIST, HelpLayout::options);
    m.put(SECTION_KEY_COMMAND_LIST_HEADING, h -> "");
    m.put(SECTION_KEY_COMMAND_LIST, HelpLayout::commands);
    m.put(SECTION_KEY_FOOTER_HEADING, h -> "");
    m.put(SECTION_KEY_FOOTER, h -> section(EXAMPLES + ":", paragraphs(h.commandSpec().usageMessage().footer(), width(h), INDENT)));
    m.put(SECTION_KEY_EXIT_CODE_LIST_HEADING, h -> "");
    m.put(SECTION_KEY_EXIT_CODE_LIST, HelpLayout::exitCodes);
    // Examples before the exit codes: they are what a reader looks for first.
    List<String> keys = new ArrayList<>(cl.getHelpSectionKeys());
    keys.removeAll(List.of(SECTION_KEY_FOOTER_HEADING, SECTION_KEY_FOOTER));
    keys.addAll(keys.indexOf(SECTION_KEY_EXIT_CODE_LIST_HEADING), List.of(SECTION_KEY_FOOTER_HEADING, SECTION_KEY_FOOTER));
    cl.setHelpSectionKeys(keys);
    cl.getSubcommands().values().stream().distinct().forEach(HelpLayout::install);
  }

  /** The command's one-line summary: the first line of its header, else of its description. */
  static String summary(CommandSpec spec) {
    String[] header = spec.usageMessage().header();
    String[] description = spec.usageMessage().description();
    return header.length > 0 ? header[0] : description.length > 0 ? description[0] : "";
  }

  private static int width(Help h) {
    return h.commandSpec().usageMessage().width();
  }

  private static String section(String heading, String body) {
    if (body.isEmpty()) {
      return "";
    }
    return "\n" + (heading == null ? "" : heading + "\n") + body;
  }

  private static String synopsis(Help h) {
    CommandSpec spec = h.commandSpec();
    StringBuilder sb = new StringBuilder("Usage: ").append(spec.qualifiedName());
    if (!spec.options().isEmpty()) {
      sb.append(" [OPTION]...");
    }
    if (!spec.subcommands().isEmpty()) {
      sb.append(" COMMAND");
    }
    for (PositionalParamSpec p : spec.positionalParameters()) {
      if (p.hidden()) {
        continue;
      }
      String label = p.paramLabel() + (p.arity().max() > 1 ? "..." : "");
      sb.append(' ').append(p.arity().min() == 0 ? "[" + label + "]" : label);
    }
    return wrap(sb.toString(), width(h), "", "       ") + "\n";
  }

  private static String parameters(Help h) {
    List<String[]> rows = new ArrayList<>();
    for (PositionalParamSpec p : h.commandSpec().positionalParameters()) {
      if (!p.hidden() && p.description().length > 0) {
        rows.add(new String[] {p.paramLabel(), String.join(" ", p.description())});
      }
    }
    return section("Arguments:", table(rows, width(h)));
  }

  private static String options(Help h) {
    List<OptionSpec> opts = new ArrayList<>(h.commandSpec().options().stream().filter(o -> !o.hidden()).toList());
    opts.sort(Comparator.comparing(HelpLayout::sortKey));
    List<String[]> rows = new ArrayList<>();
    for (OptionSpec o : opts) {
      rows.add(new String[] {optionLabel(o), String.join(" ", o.description())});
    }
    return section("Options:", table(rows, width(h)));
  }

  private static String sortKey(OptionSpec o) {
    return o.shortestName().replaceFirst("^-+", "").toLowerCase(Locale.ROOT) + " " + o.shortestName();
  }

  /**
   * {@code -v, --verbose}, {@code     --cache-size=SIZE}, {@code -o OPTION[,OPTION...]}: long
   * names line up whether or not there is a short one.
   */
  private static String optionLabel(OptionSpec o) {
    String names = (o.shortestName().startsWith("--") ? "    " : "") + String.join(", ", o.names());
    if (o.arity().max() == 0) {
      return names;
    }
    String label = o.paramLabel() + (o.splitRegex().isEmpty() ? "" : "[" + o.splitRegex() + o.paramLabel() + "...]");
    return names + (o.longestName().startsWith("--") ? "=" : " ") + label;
  }

  private static String commands(Help h) {
    List<String[]> rows = new ArrayList<>();
    for (Map.Entry<String, Help> e : h.subcommands().entrySet()) {
      CommandSpec sub = e.getValue().commandSpec();
      String names = String.join(", ", sub.names());
      if (rows.stream().noneMatch(r -> r[0].equals(names))) {
        rows.add(new String[] {names, summary(sub)});
      }
    }
    return section("Commands:", table(rows, width(h)));
  }

  private static String exitCodes(Help h) {
    List<String[]> rows = new ArrayList<>();
    h.commandSpec().usageMessage().exitCodeList().forEach((code, text) -> rows.add(new String[] {code.trim(), text}));
    return section("Exit codes:", table(rows, width(h)));
  }

  /** Two columns: a label, and its text wrapped beside it (or below it, when the label is wide). */
  private static String table(List<String[]> rows, int width) {
    if (rows.isEmpty()) {
      return "";
    }
    int column = Math.min(MAX_LABEL_COLUMN, rows.stream().mapToInt(r -> r[0].length()).max().orElse(0)) + 2 * INDENT.length();
    String pad = " ".repeat(column);
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) {
      String label = INDENT + r[0];
      if (label.length() + 2 <= column) {
        sb.append(wrap(r[1], width, label + " ".repeat(column - label.length()), pad));
      } else {
        sb.append(label).append('\n').append(wrap(r[1], width, pad, pad));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** Paragraphs as described in the class comment, each prefixed by {@code indent}. */
  private static String paragraphs(String[] elements, int width, String indent) {
    StringBuilder sb = new StringBuilder();
    for (String element : elements) {
      for (String p : element.split("%n|\n", -1)) {
        if (p.startsWith(INDENT)) {
          sb.append(p.stripTrailing());
        } else if (p.startsWith("- ")) {
          sb.append(wrap(p, width, indent, indent + INDENT));
        } else {
          sb.append(wrap(p, width, indent, indent));
        }
        sb.append('\n');
      }
    }
    return sb.toString();
  }

  /**
   * {@code text} filled into lines of at most {@code width} columns, breaking at spaces only; the
   * first line starts with {@code first}, the others with {@code rest}. No trailing newline.
   */
  static String wrap(String text, int width, String first, String rest) {
    StringBuilder sb = new StringBuilder(first);
    int lineStart = 0;
    boolean lineEmpty = true;
    for (String word : text.trim().split(" +")) {
      if (word.isEmpty()) {
        continue;
      }
      if (!lineEmpty && sb.length() - lineStart + 1 + word.length() > width) {
        sb.append('\n');
        lineStart = sb.length();
        sb.append(rest);
        lineEmpty = true;
      }
      if (!lineEmpty) {
        sb.append(' ');
      }
      sb.append(word);
      lineEmpty = false;
    }
    return sb.toString().stripTrailing();
  }
}
