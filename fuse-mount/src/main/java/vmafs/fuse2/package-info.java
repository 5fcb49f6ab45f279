/**
 * The libfuse2 fallback through jnr-fuse, for hosts without libfuse3. No SEEK_DATA/SEEK_HOLE.
 * Start at {@link vmafs.fuse2.Fuse2Session}.
 */
package vmafs.fuse2;
