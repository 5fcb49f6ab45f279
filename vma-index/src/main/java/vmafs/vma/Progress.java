package vmafs.vma;

/** Receives how far a long pass has got, in bytes of its input. Called often; must be cheap. */
@FunctionalInterface
public interface Progress {
  Progress NONE = done -> {};

  void update(long done);
}
