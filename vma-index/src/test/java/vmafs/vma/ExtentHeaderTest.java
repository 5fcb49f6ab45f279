package vmafs.vma;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Where an extent's slots put their blocks: the arithmetic every reader of extents relies on. */
class ExtentHeaderTest {

  @Test
  void slotsLocateTheirStoredBlocks() {
    long[] infos = new long[SLOTS_PER_EXTENT];
    infos[0] = blockInfo(0b1010, 1, 7);       // blocks 1 and 3 stored
    infos[2] = blockInfo(0xFFFF, 2, 0);       // slot 1 unused: skipped
    infos[5] = blockInfo(0, 1, 9);            // all zeros: no stored block
    infos[6] = blockInfo(0b1000_0001, 1, 8);  // blocks 0 and 7
    ExtentHeader e = new ExtentHeader(1_000_000, 2 + 16 + 2, infos);

    List<ExtentHeader.Slot> slots = e.slots();
    assertEquals(List.of(0, 2, 5, 6), slots.stream().map(ExtentHeader.Slot::slot).toList());
    ExtentHeader.Slot a = slots.get(0);
    ExtentHeader.Slot b = slots.get(1);
    ExtentHeader.Slot z = slots.get(2);
    ExtentHeader.Slot c = slots.get(3);
    assertEquals(List.of(0, 2, 18, 18), slots.stream().map(ExtentHeader.Slot::firstBlock).toList());
    assertEquals(1_000_000 + EXTENT_HEADER_SIZE + 18L * BLOCK_SIZE, c.dataOffset());
    assertTrue(a.stored(1) && a.stored(3) && !a.stored(0) && !a.stored(2));
    assertEquals(0, a.dataBlock(1));
    assertEquals(1, a.dataBlock(3));
    assertEquals(2 + 15, b.dataBlock(15));
    assertEquals(18, c.dataBlock(0));
    assertEquals(19, c.dataBlock(7));
    assertEquals(0, z.storedBlocks());
    assertEquals(7L * CLUSTER_SIZE + 3 * BLOCK_SIZE, a.imageOffset(3));
    assertTrue(a.sameCluster(new ExtentHeader.Slot(9, 1, 7, 0, 0, 0)));
    assertFalse(a.sameCluster(c));
  }

  @Test
  void itsArrayNeverLeavesIt() {
    long[] infos = new long[SLOTS_PER_EXTENT];
    infos[0] = blockInfo(1, 1, 0);
    ExtentHeader e = new ExtentHeader(0, 1, infos);
    infos[0] = 0;
    e.blockInfos()[0] = 0;
    assertEquals(blockInfo(1, 1, 0), e.blockInfo(0));
  }
}
