/**
 * The libfuse3 backend: a hand-written jnr-ffi binding whose request loop runs on Java threads.
 * Start at {@link vmafs.fuse3.Fuse3Session}; struct offsets live in {@code Layout} only.
 */
package vmafs.fuse3;
