import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * A TCP proxy on loopback that can be cut like a database server going down: live connections
 * are torn down, and connections made while it is cut are reset as soon as they are accepted.
 */
export class CuttableProxy {
  private server: Server | null = null;
  private readonly live = new Set<Socket>();
  private cut = false;
  /** Connections refused while cut. */
  refused = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  cutOff(): void {
    this.cut = true;
    for (const socket of this.live) socket.destroy();
  }

  restore(): void {
    this.cut = false;
  }

  async stop(): Promise<void> {
    for (const socket of this.live) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private accept(socket: Socket): void {
    if (this.cut) {
      this.refused++;
      socket.resetAndDestroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    for (const [a, b] of [
      [socket, upstream],
      [upstream, socket],
    ] as const) {
      this.live.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.live.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  }
}
