/**
 * The VMA format and its index (docs/design.md, "Modules"). Every package is API: the modules above
 * read archives, build and save indexes and write archives through all of them. A named module so
 * that {@code vmafs.sources} can require it by name.
 */
module vmafs.vma {
  requires org.slf4j;

  exports vmafs.vma;
  exports vmafs.vma.image;
  exports vmafs.vma.index;
  exports vmafs.vma.io;
  exports vmafs.vma.write;
}
