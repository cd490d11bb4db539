import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';

const ROOT = resolve(__dirname, '..', '..');

/** Runs scripts/ensure-temporal.sh (which may build the CLI once) and returns the binary's path. */
export function resolveTemporalCli(): string {
  const result = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-temporal.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const path = result.stdout.trim().split('\n').at(-1);
  if (result.status !== 0 || !path)
    throw new Error('temporal CLI v1.5.1 is not available (see the message above)');
  return path;
}

/** `--search-attribute` arguments for every key our workflows upsert. */
export function searchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}

/** What `npm start` adds to the dev server's arguments. No secret may go here: argv is public. */
export const STACK_DEV_SERVER_ARGS: readonly string[] = [
  // The dev server's one shard otherwise looks for new tasks 20 times a second, adding up
  // to 50 ms to every hand-off between workflow and activity (docs/benchmarks.md).
  '--dynamic-config-value',
  'history.transferProcessorMaxPollRPS=1000',
];

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

export async function startDevServer(options: {
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  logger: Logger;
  extraArgs?: string[];
}): Promise<DevServer> {
  const cli = resolveTemporalCli();
  mkdirSync(options.dataDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    join(options.dataDir, 'temporal.sqlite'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...searchAttributeArgs(),
    ...(options.extraArgs ?? []),
  ];
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) =>
    options.logger.debug({ temporal: chunk.toString().trim() }, 'dev server'),
  );
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const address = `127.0.0.1:${options.port}`;
  await waitForFrontend(address, exited);
  return {
    address,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitForFrontend(address: string, exited: Promise<number | null>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error('temporal dev server exited during start (is the port taken?)');
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.healthService.check({});
      await connection.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`temporal dev server did not answer on ${address} within 60 s`);
}
