package io.polytrace;

/**
 * The counters of a pipeline, read by {@link PolytraceSdk#stats()} once every span ended before
 * the call is in the core.
 *
 * @param spansStarted recording spans started (sampled or record-only)
 * @param spansEnded recording spans ended
 * @param spansExported spans the exporter confirmed
 * @param spansDropped the sum of every {@code dropped*} counter
 * @param droppedQueueFull dropped because the queue was full (back end slow or down)
 * @param droppedExportFailed dropped because their export failed for good (after retries)
 * @param droppedShutdown dropped because they ended after shutdown
 * @param droppedInvalid lost in a batch of finished spans the core could not read (a bug)
 * @param exportFailures export calls that failed (each may carry many spans)
 */
public record Stats(
    long spansStarted,
    long spansEnded,
    long spansExported,
    long spansDropped,
    long droppedQueueFull,
    long droppedExportFailed,
    long droppedShutdown,
    long droppedInvalid,
    long exportFailures) {

  static Stats of(long[] v) {
    return new Stats(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
  }
}
