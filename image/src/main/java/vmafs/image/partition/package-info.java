/**
 * Partition tables of disk images (MBR with logical partitions, GPT), read from untrusted bytes
 * through the {@link vmafs.image.ImageContent} contract: start at {@link
 * vmafs.image.partition.PartitionTables#read}. Each valid partition can then be served as an image
 * of its own with {@link vmafs.image.SliceContent}. Knows nothing of VMA or of the front ends.
 */
package vmafs.image.partition;
