package vmafs.image.partition;

import static vmafs.image.partition.PartitionFormat.MAX_PARTITIONS;
import static vmafs.image.partition.PartitionFormat.MAX_PROBLEMS;

import java.util.ArrayList;
import java.util.List;

/**
 * What a table reader found, collected with bounds: candidate partitions (each checked on its own
 * already), refused entries, problems, and the sectors no partition may cover (the MBR, EBRs).
 * {@link #finish} refuses every candidate that overlaps another or a reserved sector.
 */
final class Findings {
  private final List<Candidate> candidates = new ArrayList<>();
  private final List<Reserved> reserved = new ArrayList<>();
  private final List<Rejected> rejected = new ArrayList<>();
  private final List<Problem> problems = new ArrayList<>();
  private int omitted;

  /** A partition valid on its own, and where its entry is. */
  private record Candidate(Partition partition, String field, long offset) {}

  /** Sectors holding a table; {@code inExtended}: an EBR, which its extended partition covers by design. */
  private record Reserved(long sector, String what, boolean inExtended) {}

  void problem(Problem p) {
    if (problems.size() < MAX_PROBLEMS) {
      problems.add(p);
    } else {
      omitted++;
    }
  }

  void problem(String field, long offset, String message) {
    problem(new Problem(field, offset, message));
  }

  /** Whether another partition may still be kept (valid or refused). */
  boolean hasRoom() {
    return candidates.size() + rejected.size() < MAX_PARTITIONS;
  }

  void add(Partition p, String field, long offset) {
    candidates.add(new Candidate(p, field, offset));
  }

  void reserve(long sector, String what, boolean inExtended) {
    reserved.add(new Reserved(sector, what, inExtended));
  }

  /** An entry that is refused on its own (outside the disk, over the table, past a limit). */
  void reject(int number, Partition.Kind kind, String type, long first, long last, String field,
      long offset, String message) {
    Problem why = new Problem(field, offset, message + "; not exposed");
    rejected.add(new Rejected(number, kind, type, first, last, why));
    problem(why);
  }

  PartitionTable finish(PartitionTable.Scheme scheme, int sectorSize, String diskId) {
    int n = candidates.size();
    String[] why = new String[n];
    for (int i = 0; i < n; i++) {
      Partition a = candidates.get(i).partition();
      for (Reserved r : reserved) {
        boolean exempt = r.inExtended() && a.kind() == Partition.Kind.EXTENDED;
        if (!exempt && r.sector() >= a.firstSector() && r.sector() <= a.lastSector() && why[i] == null) {
          why[i] = "covers " + r.what() + " at sector " + r.sector();
        }
      }
    }
    // Pairwise: at most MAX_PARTITIONS candidates. Both of an overlapping pair are refused, as
    // nothing says which one is right.
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        Partition a = candidates.get(i).partition();
        Partition b = candidates.get(j).partition();
        if (conflict(a, b)) {
          if (why[i] == null) {
            why[i] = "overlaps partition " + b.number() + " (sectors " + range(b) + ")";
          }
          if (why[j] == null) {
            why[j] = "overlaps partition " + a.number() + " (sectors " + range(a) + ")";
          }
        }
      }
    }
    List<Partition> kept = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Candidate c = candidates.get(i);
      Partition p = c.partition();
      if (why[i] == null) {
        kept.add(p);
      } else {
        reject(p.number(), p.kind(), p.type(), p.firstSector(), p.lastSector(), c.field(), c.offset(),
            "sectors " + range(p) + " " + why[i]);
      }
    }
    kept.sort((x, y) -> Integer.compare(x.number(), y.number()));
    return new PartitionTable(scheme, sectorSize, diskId, kept, rejected, problems, omitted);
  }

  /** A logical partition lies inside its extended one by design; every other overlap is an error. */
  private static boolean conflict(Partition a, Partition b) {
    boolean nested = a.kind() == Partition.Kind.EXTENDED && b.kind() == Partition.Kind.LOGICAL
        || b.kind() == Partition.Kind.EXTENDED && a.kind() == Partition.Kind.LOGICAL;
    return !nested && a.firstSector() <= b.lastSector() && b.firstSector() <= a.lastSector();
  }

  static String range(Partition p) {
    return p.firstSector() + ".." + p.lastSector();
  }
}
