import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from '../../config/paths';

export interface RoleProcess {
  name: string;
  services: string;
  pid: number;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (a clean shutdown: in-flight activities finish), SIGKILL after 20 s. */
  stop(): Promise<void>;
}

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * One Switchboard process (`node dist/workers/main.js --services …`). Its JSON log lines go to
 * `logger` tagged with the process's name; resolves once it says it runs, rejects if it exits first.
 */
export async function startRoleProcess(options: {
  name: string;
  services: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Another build's entry point (a canary); this checkout's dist/workers/main.js by default. */
  entry?: string;
}): Promise<RoleProcess> {
  const child = spawn(
    process.execPath,
    [options.entry ?? join(PROJECT_ROOT, 'dist', 'workers', 'main.js'), '--services', options.services],
    { env: { ...options.env, LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  const logger = options.logger.child({ process: options.name });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    logger.warn(chunk.toString().trim());
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let entry: { level?: number; msg?: string } & Record<string, unknown>;
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        logger.info(line);
        return;
      }
      const { level = 30, msg = '', ...fields } = entry;
      // The parent's logger stamps its own time, pid and host.
      for (const key of ['time', 'pid', 'hostname']) delete fields[key];
      logger[LEVELS[level] ?? 'info'](fields, msg);
    });
    // workers/main.ts says so over IPC once its roles run.
    child.once('message', () => resolve());
    void exited.then((code) =>
      reject(
        new Error(`${options.name} (--services ${options.services}) exited with ${code}: ${stderr.trim()}`),
      ),
    );
  });
  await ready;
  return {
    name: options.name,
    services: options.services,
    pid: child.pid ?? -1,
    exited,
    kill: (signal) => child.kill(signal),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
