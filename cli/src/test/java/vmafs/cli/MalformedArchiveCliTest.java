package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.Defects;
import vmafs.vma.testing.Defects.Defect;

/**
 * Every malformed archive through every command that reads it: exit code 3, one line on stderr
 * naming the field at its offset, no Java internals, and extract leaves nothing behind.
 */
class MalformedArchiveCliTest {
  @TempDir static Path dir;
  static ArchiveBytes good;

  @BeforeAll
  static void buildGood() throws IOException {
    good = Defects.goodArchive();
  }

  static Stream<Arguments> defectsAndCommands() {
    List<Arguments> out = new ArrayList<>();
    Defects.all().forEach(d -> {
      for (String cmd : new String[] {"verify", "verify-stdin", "info", "extract", "extract-stdin"}) {
        out.add(Arguments.of(d, cmd));
      }
      if (d.inHeader()) {
        out.add(Arguments.of(d, "list"));
        out.add(Arguments.of(d, "config"));
      }
    });
    return out.stream();
  }

  @ParameterizedTest(name = "{0} via {1}")
  @MethodSource("defectsAndCommands")
  void malformedArchiveFailsWithOneLineNamingTheOffset(Defect d, String command) throws IOException {
    Path p = d.apply(good).writeTo(dir.resolve(d.name() + ".vma"));
    Path target = dir.resolve("out-" + d.name());
    Cli.Result r = switch (command) {
      case "verify-stdin" -> Cli.runWithStdin(p, "verify", "-");
      case "extract" -> Cli.run("extract", p.toString(), target.toString());
      case "extract-stdin" -> Cli.runWithStdin(p, "extract", "-", target.toString());
      default -> Cli.run(command, p.toString());
    };
    r.assertCleanError(ExitCodes.MALFORMED);
    long offset = d.offset().applyAsLong(good);
    assertTrue(r.err().contains(d.field() + " at offset " + offset + ":"), r.err());
    assertFalse(Files.exists(target), "extract removes what it created on failure");
  }
}
