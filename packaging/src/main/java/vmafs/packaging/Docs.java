package vmafs.packaging;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;
import vmafs.cli.Main;

/**
 * Generates the man pages (AsciiDoc, one per command: {@code vmafs.adoc}, {@code vmafs-mount.adoc},
 * …) and the bash completion script from the command line the CLI itself runs, so that neither can
 * drift from {@code --help}. {@code src/build/stage.sh} renders the AsciiDoc to roff with Debian's
 * {@code asciidoctor -b manpage}.
 *
 * <p>Usage: {@code Docs MANDIR COMPLETION_FILE}.
 */
public final class Docs {
  private Docs() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      throw new IllegalArgumentException("usage: Docs MANDIR COMPLETION_FILE");
    }
    CommandLine cl = Main.commandLine();
    Path man = Files.createDirectories(Path.of(args[0]));
    int status = ManPageGenerator.generateManPage(man.toFile(), null, new boolean[0], true, cl.getCommandSpec());
    if (status != 0) {
      throw new IOException("picocli's ManPageGenerator failed with status " + status);
    }
    Path completion = Path.of(args[1]);
    Files.createDirectories(completion.toAbsolutePath().getParent());
    Files.writeString(completion, AutoComplete.bash("vmafs", cl), StandardCharsets.UTF_8);
  }
}
