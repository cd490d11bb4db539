import { Runtime } from '@temporalio/worker';
import type { LogLevel, LogMetadata, Logger as TemporalLogger, WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Env } from '../config';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's own logs (worker state, activity failures) go through our logger, not the console. */
class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[LEVELS[level]]({ ...meta }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

let installed = false;

/**
 * Must run before the first connection or worker of the process; later calls are no-ops. With
 * `metricsBindAddress` (host:port), the SDK serves its own Prometheus metrics there (worker task
 * slots, schedule-to-start latency, sticky cache): a port of its own, since the SDK's core
 * exports them itself and merging them into our registry would mean scraping it on every scrape.
 */
export function installTemporalRuntime(logger: Logger, metricsBindAddress?: string): void {
  if (installed) return;
  // The SDK narrates every worker state change and webpack build at INFO; keep those for debug runs.
  const quiet = ['trace', 'debug'].includes(logger.level) ? logger.level : 'warn';
  const sdkLogger = logger.child(
    { component: 'temporal-sdk' },
    { level: logger.level === 'silent' ? 'silent' : quiet },
  );
  Runtime.install({
    logger: new PinoTemporalLogger(sdkLogger),
    ...(metricsBindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsBindAddress } } } }
      : {}),
  });
  installed = true;
}

/**
 * The worker settings of TEMPORAL_WORKER_OPTIONS as SDK WorkerOptions: startWorker and the
 * bench's baseline A worker both spread these, so they always run with the same settings.
 */
export function temporalWorkerOptions(env: Pick<Env, 'TEMPORAL_WORKER_OPTIONS'>): Partial<WorkerOptions> {
  const { stickyQueueScheduleToStartTimeoutMs, ...rest } = env.TEMPORAL_WORKER_OPTIONS;
  return {
    ...rest,
    ...(stickyQueueScheduleToStartTimeoutMs !== undefined
      ? { stickyQueueScheduleToStartTimeout: stickyQueueScheduleToStartTimeoutMs }
      : {}),
  };
}

/** Where installTemporalRuntime serves the SDK's metrics per config; undefined when not exported. */
export function temporalMetricsAddress(
  env: Pick<Env, 'METRICS_HOST' | 'TEMPORAL_METRICS_PORT'>,
): string | undefined {
  return env.TEMPORAL_METRICS_PORT === 0 ? undefined : `${env.METRICS_HOST}:${env.TEMPORAL_METRICS_PORT}`;
}
