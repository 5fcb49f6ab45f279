package vmafs.cli;

import picocli.CommandLine.Option;

/** Options every command takes. They are read before parsing (see {@link Logging}). */
final class CommonOptions {
  @Option(names = {"-v", "--verbose"}, description = "Log what is being done.")
  boolean verbose;

  @Option(names = "--debug", description = "Log debugging detail and stack traces.")
  boolean debug;
}
