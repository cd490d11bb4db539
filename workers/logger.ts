import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Readable lines on a terminal, JSON lines everywhere else (CI, containers, pipes). */
export function createLogger(
  level: string,
  format: 'auto' | 'pretty' | 'json' = 'auto',
  name = 'switchboard',
): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY);
  return pino({
    name,
    level,
    // Numbers and texts must never reach logs; these keys are dropped wherever they appear.
    redact: { paths: ['to', 'text', '*.to', '*.text', 'msisdn', '*.msisdn'], remove: true },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true },
          },
        }
      : {}),
  });
}
