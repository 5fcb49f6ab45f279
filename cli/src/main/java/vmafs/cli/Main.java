package vmafs.cli;

import java.io.EOFException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import vmafs.cli.log.Printable;
import vmafs.vma.IncompleteArchiveException;
import vmafs.vma.VmaException;

/** The {@code vmafs} command. */
@Command(
    name = "vmafs",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    usageHelpAutoWidth = true,
    description = {
      "Use Proxmox VMA backups (.vma, .vma.zst, .vma.lzo, .vma.gz) without restoring them: mount"
          + " them as sparse raw disk images, inspect, verify, extract, convert and create them.",
      "",
      "'vmafs COMMAND --help' explains a command; each has a man page too (man vmafs-mount)."
          + " The form mount(8) uses, 'vmafs ARCHIVE MOUNTPOINT -o OPTIONS', is 'vmafs mount'."
    },
    footer = {
      "  vmafs info vzdump-qemu-100-2026_11_22-12_00_00.vma.zst",
      "  vmafs mount vzdump-qemu-100-2026_11_22-12_00_00.vma.zst /mnt/vm",
      "  vmafs umount /mnt/vm",
      "  mount -t fuse.vmafs -o ro,allow_other vzdump-qemu-100-2026_11_22-12_00_00.vma.zst /mnt/vm"
    },
    subcommands = {
      InfoCommand.class,
      ListCommand.class,
      ConfigCommand.class,
      VerifyCommand.class,
      ExtractCommand.class,
      CreateCommand.class,
      IndexCommand.class,
      ConvertCommand.class,
      MountCommand.class,
      UmountCommand.class,
      NbdCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Accepted before the command too ({@code vmafs -v info …}); read early by {@link Logging}. */
  @CommandLine.Mixin CommonOptions common;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
    throw new CliException(ExitCodes.USAGE, "no command given");
  }

  public static void main(String[] args) {
    Logging.configure(Arrays.asList(args));
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code; used by tests in-process too. */
  public static int run(String... args) {
    CommandLine cl = commandLine();
    return cl.execute(mountHelperForm(cl, args));
  }

  /**
   * mount(8) runs {@code mount.fuse3}, which runs {@code vmafs ARCHIVE MOUNTPOINT -o OPTIONS}: a
   * first argument that is neither an option nor a command is that form, which is
   * {@code vmafs mount}.
   */
  static String[] mountHelperForm(CommandLine cl, String[] args) {
    if (args.length == 0 || args[0].startsWith("-") || cl.getSubcommands().containsKey(args[0])) {
      return args;
    }
    String[] out = new String[args.length + 1];
    out[0] = "mount";
    System.arraycopy(args, 0, out, 1, args.length);
    return out;
  }

  /** The whole command line, as the CLI runs it; also what man pages and completion are made from. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setUsageHelpAutoWidth(true);
    addExitCodes(cl);
    HelpLayout.install(cl);
    cl.setExecutionExceptionHandler(Main::handle);
    cl.setParameterExceptionHandler((ex, a) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("vmafs: " + ex.getMessage());
      err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
      return ExitCodes.USAGE;
    });
    return cl;
  }

  private static void addExitCodes(CommandLine cl) {
    cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n")
        .exitCodeList(ExitCodes.helpList());
    cl.getSubcommands().values().forEach(Main::addExitCodes);
  }

  private static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
    PrintWriter err = cl.getErr();
    int code;
    String message;
    if (ex instanceof CliException c) {
      code = c.exitCode();
      message = c.getMessage();
    } else if (ex instanceof vmafs.fs.FuseException) {
      code = ExitCodes.ENVIRONMENT;
      message = ex.getMessage();
    } else if (ex instanceof IncompleteArchiveException) {
      code = ExitCodes.INCOMPLETE;
      message = ex.getMessage();
    } else if (ex instanceof VmaException) {
      code = ExitCodes.MALFORMED;
      message = ex.getMessage();
    } else if (ex instanceof NoSuchFileException e) {
      code = ExitCodes.ENVIRONMENT;
      message = e.getFile() + ": no such file or directory";
    } else if (ex instanceof AccessDeniedException e) {
      code = ExitCodes.ENVIRONMENT;
      message = e.getFile() + ": permission denied";
    } else if (ex instanceof FileAlreadyExistsException e) {
      code = ExitCodes.ENVIRONMENT;
      message = e.getFile() + ": already exists";
    } else if (ex instanceof EOFException) {
      code = ExitCodes.MALFORMED;
      message = ex.getMessage();
    } else if (ex instanceof IOException) {
      code = ExitCodes.ENVIRONMENT;
      message = ex.getMessage() == null ? ex.toString() : ex.getMessage();
    } else {
      code = ExitCodes.INTERNAL;
      message = "internal error: " + ex + " (rerun with --debug for details, and please report it)";
    }
    err.println("vmafs: error: " + Printable.of(message)); // may quote names the archive chose
    if (Logging.debug()) {
      ex.printStackTrace(err);
    }
    err.flush();
    return code;
  }
}
