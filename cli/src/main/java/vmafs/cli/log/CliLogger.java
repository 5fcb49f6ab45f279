package vmafs.cli.log;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * An slf4j logger that formats and hands lines to {@link CliLogging}. Markers are ignored
 * ({@link LegacyAbstractLogger} maps the marker variants to the plain ones).
 */
final class CliLogger extends LegacyAbstractLogger {
  private static final long serialVersionUID = 1L;

  CliLogger(String name) {
    this.name = name;
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern,
      Object[] arguments, Throwable throwable) {
    var formatted = MessageFormatter.arrayFormat(pattern, arguments, throwable);
    CliLogging.write(level, name, formatted.getMessage(),
        throwable != null ? throwable : formatted.getThrowable());
  }

  @Override
  public boolean isTraceEnabled() {
    return CliLogging.enabled(Level.TRACE);
  }

  @Override
  public boolean isDebugEnabled() {
    return CliLogging.enabled(Level.DEBUG);
  }

  @Override
  public boolean isInfoEnabled() {
    return CliLogging.enabled(Level.INFO);
  }

  @Override
  public boolean isWarnEnabled() {
    return CliLogging.enabled(Level.WARN);
  }

  @Override
  public boolean isErrorEnabled() {
    return CliLogging.enabled(Level.ERROR);
  }
}
