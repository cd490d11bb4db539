// Parent side of bench/carriers-process.ts: start it, ask it for counters, point its hub's
// webhook at the current worker, stop it.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface CarrierStats {
  /** CPU time of the carriers' process since it started. */
  cpuMs: number;
  /** RBM capability requests the hub answered (cache misses and background refreshes). */
  capabilityLookups: number;
  rcsSends: number;
  smscSubmits: number;
}

export type CarrierRequest =
  { id: number; cmd: 'stats' } | { id: number; cmd: 'webhook'; url: string } | { id: number; cmd: 'stop' };

export interface CarrierReply {
  id: number;
  stats?: CarrierStats;
  ready?: { smppPort: number; rcsHubUrl: string };
}

export class CarriersProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: CarrierReply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly smppPort: number,
    readonly rcsHubUrl: string,
  ) {
    child.on('message', (reply: CarrierReply) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
    // A send on a channel that closed meanwhile reports here; request() has already failed then.
    child.on('error', () => undefined);
  }

  static async start(): Promise<CarriersProcess> {
    const child = fork(join(__dirname, 'carriers-process.js'), [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ smppPort: number; rcsHubUrl: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('sandbox carriers did not start within 30 s')), 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sandbox carriers exited during start (code ${code})`));
      });
      child.once('message', (reply: CarrierReply) => {
        clearTimeout(timer);
        if (reply.ready) resolve(reply.ready);
        else reject(new Error('sandbox carriers: unexpected first message'));
      });
    });
    child.removeAllListeners('exit');
    return new CarriersProcess(child, ready.smppPort, ready.rcsHubUrl);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request(message: Omit<CarrierRequest, 'id'>): Promise<CarrierReply> {
    const id = this.nextId++;
    if (!this.child.connected) return Promise.reject(new Error('sandbox carriers are gone'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('sandbox carriers did not answer within 10 s'));
      }, 10_000);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.send({ ...message, id });
    });
  }

  async stats(): Promise<CarrierStats> {
    const reply = await this.request({ cmd: 'stats' });
    if (!reply.stats) throw new Error('sandbox carriers: no stats in the reply');
    return reply.stats;
  }

  async setWebhookUrl(url: string): Promise<void> {
    await this.request({ cmd: 'webhook', url } as Omit<CarrierRequest, 'id'>);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request({ cmd: 'stop' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
