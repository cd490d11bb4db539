// One logical SMPP bind that survives its sockets. `smpp` 0.5.1 cannot reconnect a session, so
// every (re)bind opens a brand-new session; requests get response timeouts and fail fast when
// their socket dies, which the library does not do on its own. Nor does it recover from a PDU it
// cannot parse: it emits 'error' and never reads that socket again, so such a session is dropped.
import type { Logger } from 'pino';
import { errorForStatus } from './command-status';
import { SmsPermanentError, SmsTransientError } from './errors';
import type { PDU, Session } from './smpp-lib';
import { smpp } from './smpp-lib';

export type BindMode = 'transceiver' | 'transmitter' | 'receiver';

/** The socket closed (or was not writable) before the response came: the SMSC may or may not have the PDU. */
export class LinkLostError extends Error {
  override readonly name = 'LinkLostError';
}

/**
 * The SMSC sent a PDU we could not parse, so its session was dropped before this request's
 * response was read: the SMSC may or may not have the PDU, and the answer may be what broke.
 */
export class MalformedPduError extends Error {
  override readonly name = 'MalformedPduError';
}

export class ResponseTimeoutError extends Error {
  override readonly name = 'ResponseTimeoutError';
}

export interface SmppLinkOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType: string;
  bindMode: BindMode;
  enquireLinkMs: number;
  responseTimeoutMs: number;
  rebindBackoffMs: number;
  rebindBackoffMaxMs: number;
  logger: Logger;
  /**
   * Runs before the deliver_sm_resp is written: the PDU is acknowledged only once the returned
   * promise resolves; a rejection answers ESME_RX_T_APPN, and the SMSC redelivers later.
   */
  onDeliverSm: (pdu: PDU) => Promise<void>;
  /** Each bind attempt's result (metrics). */
  onBind?: (result: 'bound' | 'refused' | 'no_answer') => void;
}

interface Pending {
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Conn {
  session: Session;
  bound: boolean;
  pending: Map<number, Pending>;
  timers: NodeJS.Timeout[];
  /** Why the library's reader stopped on this session, if it did. */
  readerError: Error | null;
}

interface BindWaiter {
  resolve: (c: Conn) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const ESME_RINVCMDID = 0x03;
/** "ESME receiver temporary app error": the SMSC keeps the PDU and retries it. */
export const ESME_RX_T_APPN = 0x64;
const SMPP_VERSION_34 = 0x34;
const ANSWERED_ELSEWHERE = new Set(['enquire_link', 'deliver_sm', 'unbind', 'alert_notification']);

export class SmppLink {
  private conn: Conn | null = null;
  private closing = false;
  private backoffMs: number;
  private rebindTimer: NodeJS.Timeout | null = null;
  private bindError: SmsPermanentError | null = null;
  private readonly waiters = new Set<BindWaiter>();
  private readonly log: Logger;

  constructor(private readonly o: SmppLinkOptions) {
    this.backoffMs = o.rebindBackoffMs;
    this.log = o.logger.child({ smppLink: o.bindMode, smsc: `${o.host}:${o.port}` });
  }

  get bound(): boolean {
    return this.conn?.bound === true;
  }

  start(): void {
    this.open();
  }

  /** Resolves once bound; SmsTransientError('timeout') after timeoutMs, SmsPermanentError if refused. */
  async ready(timeoutMs: number): Promise<void> {
    await this.whenBound(timeoutMs);
  }

  private whenBound(timeoutMs: number): Promise<Conn> {
    if (this.closing) return Promise.reject(new SmsTransientError('closed'));
    if (this.conn?.bound) return Promise.resolve(this.conn);
    if (this.bindError) return Promise.reject(this.bindError);
    return new Promise((resolve, reject) => {
      const waiter: BindWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new SmsTransientError('timeout'));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Waits for a bind (waitMs), sends, and waits for the response (responseMs). */
  async send(
    command: string,
    params: Record<string, unknown>,
    waitMs: number,
    responseMs: number,
  ): Promise<PDU> {
    const conn = await this.whenBound(waitMs);
    return this.request(conn, command, params, responseMs);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.rebindTimer) clearTimeout(this.rebindTimer);
    this.settleWaiters(new SmsTransientError('closed'));
    const conn = this.conn;
    if (!conn) return;
    if (conn.bound) {
      try {
        await this.request(conn, 'unbind', {}, Math.min(this.o.responseTimeoutMs, 2000));
      } catch {
        // Unbinding is a courtesy: the socket is closed either way.
      }
    }
    conn.bound = false;
    await new Promise<void>((resolve) => {
      if (conn.session.socket.destroyed) return resolve();
      const force = setTimeout(() => conn.session.destroy(), 1000);
      conn.session.socket.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      conn.session.close();
    });
    this.log.info('unbound');
  }

  private open(): void {
    if (this.closing) return;
    const session = smpp.connect({ host: this.o.host, port: this.o.port });
    // PDUs are small and answered one by one: without this, Nagle's algorithm holds a PDU back
    // behind an unacknowledged one until the SMSC's delayed ACK (~40 ms on Linux).
    session.socket.setNoDelay(true);
    const conn: Conn = { session, bound: false, pending: new Map(), timers: [], readerError: null };
    this.conn = conn;
    // Connect + bind must finish in time, or a black-holed SMSC would stall us forever.
    conn.timers.push(
      setTimeout(() => {
        if (!conn.bound) {
          this.log.warn('bind timed out');
          session.destroy();
        }
      }, this.o.responseTimeoutMs),
    );
    // Without a listener, the library's 'error' event would crash the process.
    session.on('error', (err: Error) => this.onSessionError(conn, err));
    session.on('close', () => this.onClose(conn));
    session.socket.on('end', () => {
      conn.bound = false;
    });
    session.on('connect', () => void this.bind(conn));
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('deliver_sm', (pdu: PDU) => void this.onDeliverSm(conn, pdu));
    session.on('unbind', (pdu: PDU) => {
      this.log.warn('SMSC unbound us');
      conn.bound = false;
      session.send(pdu.response(), () => session.close());
    });
    session.on('pdu', (pdu: PDU) => {
      if (pdu.isResponse() || ANSWERED_ELSEWHERE.has(pdu.command)) return;
      session.send(
        pdu.command === 'unknown' ? pdu.response() : pdu.response({ command_status: ESME_RINVCMDID }),
      );
    });
  }

  private async bind(conn: Conn): Promise<void> {
    let resp: PDU;
    try {
      resp = await this.request(conn, `bind_${this.o.bindMode}`, {
        system_id: this.o.systemId,
        password: this.o.password,
        system_type: this.o.systemType,
        interface_version: SMPP_VERSION_34,
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'bind got no answer');
      this.o.onBind?.('no_answer');
      conn.session.destroy();
      return;
    }
    // A malformed PDU read in the same chunk as the bind_resp has already dropped this session.
    if (conn.session.socket.destroyed) return;
    if (resp.command_status !== 0) {
      const error = errorForStatus(resp.command_status);
      this.log.error({ code: error.code }, 'bind refused');
      this.o.onBind?.('refused');
      if (error instanceof SmsPermanentError) {
        this.bindError = error;
        this.settleWaiters(error);
      }
      conn.session.destroy();
      return;
    }
    conn.bound = true;
    this.o.onBind?.('bound');
    this.bindError = null;
    this.backoffMs = this.o.rebindBackoffMs;
    conn.timers.push(setInterval(() => this.enquire(conn), this.o.enquireLinkMs));
    this.log.info('bound');
    for (const w of [...this.waiters]) {
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(conn);
    }
  }

  private enquire(conn: Conn): void {
    this.request(conn, 'enquire_link', {}).catch((err: Error) => {
      if (err instanceof ResponseTimeoutError) {
        this.log.warn('enquire_link unanswered: dropping the socket to rebind');
        conn.session.destroy();
      }
    });
  }

  private onSessionError(conn: Conn, err: Error): void {
    if (conn.session.socket.destroyed) {
      this.log.warn({ err: err.message }, 'SMPP socket error'); // 'close' follows
      return;
    }
    // The socket is fine but the library threw while parsing a PDU and has stopped reading it for
    // good: unbound at once, so no submit is written to a session whose answers nobody reads.
    this.log.warn({ err: err.message }, 'unparsable PDU from the SMSC: dropping the session to rebind');
    conn.readerError = err;
    conn.bound = false;
    conn.session.destroy();
  }

  private async onDeliverSm(conn: Conn, pdu: PDU): Promise<void> {
    let commandStatus = 0;
    try {
      await this.o.onDeliverSm(pdu);
    } catch (err) {
      commandStatus = ESME_RX_T_APPN;
      this.log.warn({ err: (err as Error).name }, 'deliver_sm not taken: answered ESME_RX_T_APPN');
    }
    // An unanswered deliver_sm is retried by the SMSC too, so a socket gone meanwhile loses nothing.
    const sent = conn.session.send(pdu.response({ command_status: commandStatus }));
    if (!sent) this.log.warn('deliver_sm left unanswered: socket not writable');
  }

  private request(
    conn: Conn,
    command: string,
    params: Record<string, unknown>,
    timeoutMs = this.o.responseTimeoutMs,
  ): Promise<PDU> {
    return new Promise((resolve, reject) => {
      const pdu = new smpp.PDU(command, params);
      const sent = conn.session.send(pdu, (resp) => {
        const p = conn.pending.get(pdu.sequence_number);
        if (!p) return; // already timed out
        conn.pending.delete(pdu.sequence_number);
        clearTimeout(p.timer);
        resolve(resp);
      });
      if (!sent) {
        // The socket is half-closed on its way to 'close': stop using it now, or every waiting
        // submit would spin through its retries before the rebind.
        conn.bound = false;
        conn.session.destroy();
        return reject(new LinkLostError(`${command}: socket not writable`));
      }
      const seq = pdu.sequence_number;
      const timer = setTimeout(() => {
        conn.pending.delete(seq);
        // The library keeps a callback per request until its response: drop it, or it leaks.
        delete (conn.session as unknown as { _callbacks: Record<number, unknown> })._callbacks[seq];
        reject(new ResponseTimeoutError(`${command}: no response in ${timeoutMs} ms`));
      }, timeoutMs);
      conn.pending.set(seq, { reject, timer });
    });
  }

  private onClose(conn: Conn): void {
    conn.bound = false;
    for (const t of conn.timers) clearTimeout(t);
    for (const p of conn.pending.values()) {
      clearTimeout(p.timer);
      p.reject(
        conn.readerError
          ? new MalformedPduError(`session dropped after an unparsable PDU: ${conn.readerError.message}`)
          : new LinkLostError('socket closed before the response'),
      );
    }
    conn.pending.clear();
    if (this.conn !== conn) return;
    this.conn = null;
    if (this.closing) return;
    const delay = Math.round(this.backoffMs * (0.8 + Math.random() * 0.4));
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.rebindBackoffMaxMs);
    this.log.info({ delayMs: delay }, 'socket closed; rebinding');
    this.rebindTimer = setTimeout(() => this.open(), delay);
  }

  private settleWaiters(error: Error): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.waiters.clear();
  }
}
