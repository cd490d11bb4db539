// One signed callback POST over undici, with the SSRF rule (address-guard.ts) applied to the
// address the socket connects to. Private addresses are refused unless allowed: all of them
// (CALLBACK_ALLOW_PRIVATE_HOSTS, tests) or listed host:port targets one by one (the sandbox
// stack's own receiver), so a worker never reaches its network's other services by default.
import { Agent, request } from 'undici';
import { checkLiteralHost, guardedLookup } from './address-guard';
import { SIGNATURE_HEADER, signCallback } from './signature';

export interface PrivateTargets {
  /** Any private address (never a default). */
  allowAll: boolean;
  /** `host:port` as written in callback URLs (`127.0.0.1:8094`, `[::1]:8094`, `localhost:8094`). */
  allowed: readonly string[];
}

export interface CallbackTransportOptions {
  /** The whole POST, connect to answer. */
  timeoutMs: number;
  /** The TCP (and TLS) connect alone: a black-hole host frees its slot after this. */
  connectTimeoutMs: number;
  privateTargets: PrivateTargets;
}

/** The `host:port` a URL connects to, as PrivateTargets.allowed lists it. */
export function privateTargetOf(target: string | URL): string {
  const url = new URL(target);
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`.toLowerCase();
}

export class CallbackTransport {
  private readonly guarded: Agent;
  /** Only for the listed targets: the operator named them, so their private address is meant. */
  private readonly listed: Agent;
  private readonly allowed: Set<string>;

  constructor(private readonly o: CallbackTransportOptions) {
    const agent = (allowPrivate: boolean) =>
      new Agent({
        connect: { lookup: guardedLookup(allowPrivate), timeout: Math.min(o.connectTimeoutMs, o.timeoutMs) },
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
      });
    this.guarded = agent(o.privateTargets.allowAll);
    this.listed = agent(true);
    this.allowed = new Set(o.privateTargets.allowed.map((t) => t.toLowerCase()));
  }

  /** POSTs `body` signed with every secret given (the current one first); returns the status code. */
  async post(target: string, body: string, secrets: readonly string[]): Promise<number> {
    const url = new URL(target);
    const listed = this.allowed.has(privateTargetOf(url));
    checkLiteralHost(url, this.o.privateTargets.allowAll || listed);
    const res = await request(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Switchboard-Callbacks/1',
        [SIGNATURE_HEADER.toLowerCase()]: signCallback(secrets, body),
      },
      dispatcher: listed ? this.listed : this.guarded,
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    await res.body.dump();
    return res.statusCode;
  }

  async close(): Promise<void> {
    await Promise.all([this.guarded.close(), this.listed.close()]);
  }
}
