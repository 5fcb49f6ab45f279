package vmafs.image.partition;

/**
 * A part of a table that cannot be used, with the field and disk offset. Never leaves this
 * package: the reader turns it into a {@link Problem} of the result.
 */
final class TableException extends Exception {
  private final Problem problem;

  TableException(String field, long offset, String message) {
    super(message, null, false, false);
    this.problem = new Problem(field, offset, message);
  }

  Problem problem() {
    return problem;
  }
}
