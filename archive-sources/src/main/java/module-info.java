/**
 * The byte sources of archives and opening an archive (docs/design.md, "Modules"). Exported is only
 * what the service, the CLI and the tests use: opening an archive and writing a seekable one
 * ({@code vmafs.archive}), the format, decode options, progress, random-access kinds, the decode
 * pass and its map, and the compressed layer's error ({@code vmafs.source}), and the block cache
 * ({@code vmafs.cache}). The per-format packages ({@code vmafs.source.zstd}, {@code .gzip},
 * {@code .lzop}, {@code .raw}) and what they share ({@code vmafs.source.internal}) are not exported:
 * their public types are public only to each other.
 */
module vmafs.sources {
  requires transitive vmafs.vma;
  requires com.github.benmanes.caffeine;
  requires com.github.luben.zstd_jni;
  // aircompressor 2.x has neither a module-info nor an Automatic-Module-Name: the name comes from the jar's file name.
  requires aircompressor;
  requires org.slf4j;
  // The zstd pass and the restart finder size their buffers by the heap the JVM really has.
  requires java.management;

  exports vmafs.archive;
  exports vmafs.cache;
  exports vmafs.source;
}
