package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code --help} reads well at any terminal width: lines break only between words, fit the width,
 * every command has a one-sentence summary and examples; {@code --version} names the components.
 */
class HelpTextTest {
  static final int[] WIDTHS = {60, 80, 132};

  /** "vmafs" and every command, as a user types them before --help. */
  static List<String> commands() {
    List<String> out = new ArrayList<>(List.of(""));
    Main.commandLine().getSubcommands().values().stream().distinct()
        .filter(c -> !c.getCommandName().equals("help"))
        .forEach(c -> out.add(c.getCommandName()));
    return out;
  }

  static String help(String command, int width) {
    String old = System.getProperty("picocli.usage.width");
    System.setProperty("picocli.usage.width", Integer.toString(width));
    try {
      CommandLine cl = Main.commandLine();
      CommandLine c = command.isEmpty() ? cl : cl.getSubcommands().get(command);
      return c.getUsageMessage(CommandLine.Help.Ansi.OFF);
    } finally {
      if (old == null) {
        System.clearProperty("picocli.usage.width");
      } else {
        System.setProperty("picocli.usage.width", old);
      }
    }
  }

  /**
   * Rendered so wide that nothing wraps, the help's words are the text's own: at a normal width
   * every word must still be one of them. A word broken across two lines ("--" + "sparse",
   * "e." + "g.", "disk-<devname>." + "raw)") is not.
   */
  @ParameterizedTest(name = "vmafs {0} --help")
  @MethodSource("commands")
  void linesBreakOnlyBetweenWords(String command) {
    Set<String> words = new HashSet<>(Arrays.asList(help(command, 10_000).split("\\s+")));
    for (int width : WIDTHS) {
      String text = help(command, width);
      for (String line : text.lines().toList()) {
        for (String word : line.trim().split("\\s+")) {
          assertTrue(word.isEmpty() || words.contains(word),
              "'" + word + "' is part of a word broken at width " + width + ", in: " + line + "\n" + text);
        }
        boolean oneWord = line.trim().split("\\s+").length <= 2;
        boolean example = line.matches("  (vmafs|mount|zstd|nbdinfo|qemu-img) .*");
        assertTrue(line.length() <= width || oneWord || example,
            "longer than " + width + " columns: " + line);
      }
    }
  }

  @ParameterizedTest(name = "vmafs {0} --help")
  @MethodSource("commands")
  void everyCommandHasExamplesAndItsSummaryIsASentence(String command) {
    String text = help(command, 80);
    assertTrue(text.contains("\nExamples:\n  "), text);
    assertTrue(text.contains("\nExit codes:\n"), text);
    if (!command.isEmpty()) {
      String summary = HelpLayout.summary(Main.commandLine().getSubcommands().get(command).getCommandSpec());
      assertTrue(summary.matches("[A-Z].*[^.]\\.$"), "not one sentence ending with a full stop: " + summary);
      assertTrue(text.startsWith(summary + "\n"), text);
    }
  }

  @Test
  void theCommandListShowsWholeSentences() {
    String text = help("", 80);
    String list = text.substring(text.indexOf("\nCommands:\n") + 11, text.indexOf("\n\n", text.indexOf("\nCommands:\n") + 1));
    // join each command's wrapped lines; every entry ends with a full stop
    List<String> entries = new ArrayList<>();
    for (String line : list.lines().toList()) {
      if (line.startsWith("  ") && !line.startsWith("   ")) {
        entries.add(line.trim());
      } else {
        entries.set(entries.size() - 1, entries.get(entries.size() - 1) + " " + line.trim());
      }
    }
    assertEquals(commands().size(), entries.size(), list);
    for (String e : entries) {
      assertTrue(e.endsWith("."), "summary cut short: " + e);
    }
  }

  @Test
  void versionNamesEveryComponent() {
    Cli.Result r = Cli.run("--version");
    assertEquals(0, r.code(), r.err());
    List<String> lines = r.stdout().lines().toList();
    assertTrue(lines.get(0).matches("vmafs \\d+\\.\\d+\\.\\d+\\S* .*"), r.stdout());
    assertTrue(lines.get(1).matches("Java 1[7-9].*|Java [2-9]\\d.*"), r.stdout());
    assertTrue(lines.get(2).matches("FUSE (\\S*libfuse3\\.so\\.[34] 3\\.\\d+\\.\\d+|libfuse\\.so\\.2 2\\.\\d .*)"), r.stdout());
    assertTrue(lines.get(3).matches("libzstd 1\\.\\d+\\.\\d+ \\(zstd-jni 1\\.\\d+\\.\\d+-\\d+\\)"), r.stdout());
    assertTrue(lines.get(4).matches("aircompressor \\d+\\.\\d+(\\.\\d+)?"), r.stdout());
    assertTrue(lines.get(5).matches("jnr-ffi \\d+\\.\\d+\\.\\d+"), r.stdout());
    assertTrue(lines.get(6).matches("picocli \\d+\\.\\d+\\.\\d+"), r.stdout());
  }

  @Test
  void theMountHelperFormIsMount() {
    CommandLine cl = Main.commandLine();
    assertArrayEquals(new String[] {"mount", "/b/x.vma", "/mnt", "-o", "ro"},
        Main.mountHelperForm(cl, new String[] {"/b/x.vma", "/mnt", "-o", "ro"}));
    assertArrayEquals(new String[] {"info", "x.vma"}, Main.mountHelperForm(cl, new String[] {"info", "x.vma"}));
    assertArrayEquals(new String[] {"--version"}, Main.mountHelperForm(cl, new String[] {"--version"}));
  }
}
