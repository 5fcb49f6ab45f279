package vmafs.e2e;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Boot sectors from {@code samples/bootsector.asm} and TCG qemu runs that capture the serial port. */
final class Qemu {
  /** isa-debug-exit: the boot sector's "ok" exit (0 << 1 | 1). */
  static final int EXIT_OK = 1;
  /** isa-debug-exit: the boot sector's "fail" exit (1 << 1 | 1). */
  static final int EXIT_FAIL = 3;

  private Qemu() {}

  /** Assembles the sample boot sector (440 bytes of MBR code) with the given defines. */
  static Path bootSector(Path out, long markerLba, Long writeLba) {
    List<String> cmd = new ArrayList<>(List.of("nasm", "-f", "bin", "-DMARKER_LBA=" + markerLba));
    if (writeLba != null) {
      cmd.add("-DWRITE_LBA=" + writeLba);
    }
    cmd.addAll(List.of("-o", out.toString(), Run.ROOT.resolve("samples/bootsector.asm").toString()));
    Run.exec(cmd, null, Map.of()).ok();
    return out;
  }

  /**
   * Runs qemu until the guest exits through isa-debug-exit (or 60 s pass), with {@code drive} as
   * the only disk, plus {@code extra} arguments; returns the serial output with CRs removed.
   */
  static Run.Result boot(String drive, String... extra) {
    List<String> cmd = new ArrayList<>(List.of("timeout", "-k", "5", "60", "qemu-system-x86_64",
        "-nodefaults", "-machine", "pc,accel=tcg", "-m", "64", "-display", "none", "-serial", "stdio",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot"));
    cmd.addAll(List.of(extra));
    cmd.addAll(List.of("-drive", drive));
    Run.Result r = Run.exec(cmd, null, Map.of());
    return new Run.Result(r.code(), r.out().replace("\r", ""), r.err(), r.outBytes());
  }

  /** Writes {@code bytes} into {@code image} at {@code offset}, keeping the file sparse. */
  static void poke(Path image, long offset, byte[] bytes) throws IOException {
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
      f.seek(offset);
      f.write(bytes);
    }
  }
}
