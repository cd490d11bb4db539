// Sandbox SMSC: a real SMPP 3.4 server (the `smpp` package's) that authenticates binds, accepts
// submit_sm, reassembles concatenated texts, and sends delivery receipts decided by the number
// plan. Everything it received is kept in `received` / `submits` for tests to inspect.
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Logger } from 'pino';
import { smpp } from '../channels/sms/smpp-lib';
import type { PDU, Server, Session } from '../channels/sms/smpp-lib';
import { behaviourFor, DEFAULT_NUMBER_PLAN } from './number-plan';
import type { NumberPlanRow } from './number-plan';
import { NO_FAULTS, takeSubmitFault } from './smsc-faults';
import type { SmscFaults } from './smsc-faults';
import { receiptPdu } from './smsc-receipt';
import type { FinalState, ReceiptInput } from './smsc-receipt';
import { concatInfo, Reassembler } from './smsc-reassembly';
import type { ConcatInfo } from './smsc-reassembly';

export type { SmscFaults } from './smsc-faults';

export interface SandboxSmscOptions {
  port?: number; // 0 = ephemeral (default)
  host?: string; // default 127.0.0.1
  systemId: string;
  password: string;
  receiptDelayMs?: number; // default 50
  /** How long before a receipt answered with an error status is sent again (real SMSCs: minutes). */
  receiptRetryMs?: number; // default 500
  numberPlan?: NumberPlanRow[];
  logger?: Logger;
}

/** One accepted submit_sm (one part). */
export interface SmscSubmit {
  smscMessageId: string;
  systemId: string;
  source: string;
  destination: string;
  dataCoding: number;
  esmClass: number;
  /** This part's text, decoded per data_coding. */
  text: string;
  concat: ConcatInfo | null;
  at: number;
}

/** A complete message: one submit, or all parts of a concatenated one. */
export interface SmscMessage {
  systemId: string;
  source: string;
  destination: string;
  text: string;
  dataCoding: number;
  parts: number;
  concatRef: number | null;
  smscMessageIds: string[];
}

export interface SmscStats {
  binds: number;
  unbinds: number;
  bindFailures: number;
  submits: number;
  throttled: number;
  queueFull: number;
  /** submit_sm refused by the errorNext fault. */
  errors: number;
  drops: number;
  /** Most submit_sm received and not yet answered at any one time (see responseDelayMs). */
  maxUnanswered: number;
  /** deliver_sm written, first sends and redeliveries alike. */
  receiptsSent: number;
  receiptsAcked: number;
  /** deliver_sm_resp with an error status (ESME_RX_T_APPN...): the receipt is sent again later. */
  receiptsRefused: number;
}

type BindMode = 'transceiver' | 'transmitter' | 'receiver';

interface Client {
  session: Session;
  systemId: string | null;
  mode: BindMode | null;
  /** Closing on purpose: every PDU still arriving is ignored, as if never read. */
  dead: boolean;
  unacked: Set<ReceiptInput & { systemId: string }>;
  /** submit_sm accepted on this bind (the id counter of idsRestartOnBind). */
  accepted: number;
}

type QueuedReceipt = ReceiptInput & { systemId: string };

const STATUS = { OK: 0x00, INVBNDSTS: 0x04, ALYBND: 0x05, INVSRCADR: 0x0a, INVDSTADR: 0x0b, BINDFAIL: 0x0d };
const THROTTLED = 0x58;
const MSGQFUL = 0x14;

export class SandboxSmsc extends EventEmitter {
  readonly received: SmscMessage[] = [];
  readonly submits: SmscSubmit[] = [];
  readonly stats: SmscStats = {
    binds: 0,
    unbinds: 0,
    bindFailures: 0,
    submits: 0,
    throttled: 0,
    queueFull: 0,
    errors: 0,
    drops: 0,
    maxUnanswered: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsRefused: 0,
  };
  private faults: SmscFaults = { ...NO_FAULTS };
  private readonly clients = new Set<Client>();
  private readonly queued: QueuedReceipt[] = [];
  /** Receipts waiting for their send time; kept across stop()/start(), as a real SMSC stores them. */
  private readonly timers = new Map<NodeJS.Timeout, QueuedReceipt>();
  private readonly responseTimers = new Set<NodeJS.Timeout>();
  private readonly reassembler = new Reassembler<SmscSubmit>();
  private readonly log: Logger;
  private server: Server | null = null;
  /** A restart listens where the first start did, as a real SMSC comes back on its address. */
  private listenPort: number | null = null;
  private unanswered = 0;
  // Time-based start keeps ids unique across sandbox restarts against the same database.
  private nextId = Date.now() * 1000;

  constructor(private readonly o: SandboxSmscOptions) {
    super();
    this.log = (o.logger ?? pino({ level: 'silent' })).child({ component: 'sandbox-smsc' });
  }

  async start(): Promise<{ port: number }> {
    const server = smpp.createServer({}, (session) => this.onSession(session));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort ?? this.o.port ?? 0, this.o.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err: Error) => this.log.error({ err: err.message }, 'server error'));
    const { port } = server.address() as AddressInfo;
    this.listenPort = port;
    this.log.info({ port }, 'sandbox SMSC listening');
    return { port };
  }

  async stop(): Promise<void> {
    for (const [t, receipt] of this.timers) {
      clearTimeout(t);
      this.queued.push(receipt);
    }
    this.timers.clear();
    for (const t of this.responseTimers) clearTimeout(t);
    this.responseTimers.clear();
    for (const c of this.clients) c.session.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Adds faults on top of the current ones ("next N" counters are replaced, not summed). */
  inject(faults: Partial<SmscFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  resetFaults(): void {
    this.faults = { ...NO_FAULTS };
  }

  /** Abruptly destroys every client socket, like an SMSC crash or a network cut. */
  killConnections(): number {
    let n = 0;
    for (const c of this.clients) {
      c.dead = true;
      c.session.destroy();
      n++;
    }
    return n;
  }

  /** Writes bytes as they are to every bound client: malformed PDUs, which the library cannot build. */
  sendRaw(bytes: Buffer): number {
    const bound = [...this.clients].filter((c) => c.mode && !c.dead);
    for (const c of bound) c.session.socket.write(bytes);
    return bound.length;
  }

  get boundSessions(): number {
    return [...this.clients].filter((c) => c.mode && !c.dead).length;
  }

  /** Sends enquire_link to every bound client; resolves with how many answered within timeoutMs. */
  async enquireLinkAll(timeoutMs = 1000): Promise<number> {
    const bound = [...this.clients].filter((c) => c.mode && !c.dead);
    const answers = await Promise.all(
      bound.map(
        (c) =>
          new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), timeoutMs);
            const sent = c.session.send(new smpp.PDU('enquire_link', {}), (resp) => {
              clearTimeout(timer);
              resolve(resp.command === 'enquire_link_resp' && resp.command_status === 0);
            });
            if (!sent) resolve(false);
          }),
      ),
    );
    return answers.filter(Boolean).length;
  }

  /** Sends unbind to every bound client (an SMSC going down for maintenance); resolves with how many answered. */
  async unbindAll(timeoutMs = 1000): Promise<number> {
    const bound = [...this.clients].filter((c) => c.mode && !c.dead);
    const answers = await Promise.all(
      bound.map(
        (c) =>
          new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), timeoutMs);
            c.mode = null;
            const sent = c.session.send(new smpp.PDU('unbind', {}), (resp) => {
              clearTimeout(timer);
              resolve(resp.command === 'unbind_resp' && resp.command_status === 0);
            });
            if (!sent) resolve(false);
          }),
      ),
    );
    return answers.filter(Boolean).length;
  }

  /** Sends a receipt for any id (e.g. one the client never submitted). */
  sendReceipt(systemId: string, smscMessageId: string, state: FinalState): void {
    this.dispatch({
      systemId,
      smscMessageId,
      state,
      handset: '+15550000000',
      sender: 'sandbox',
      submittedAt: new Date(),
      textStart: '',
    });
  }

  private onSession(session: Session): void {
    const client: Client = {
      session,
      systemId: null,
      mode: null,
      dead: false,
      unacked: new Set(),
      accepted: 0,
    };
    this.clients.add(client);
    session.on('error', (err: Error) => this.log.debug({ err: err.message }, 'client socket error'));
    session.socket.setNoDelay(true);
    session.on('close', () => this.onClose(client));
    session.on('pdu', (pdu: PDU) => {
      if (client.dead) return;
      try {
        this.onPdu(client, pdu);
      } catch (err) {
        this.log.error({ err: (err as Error).message, command: pdu.command }, 'PDU handling failed');
      }
    });
  }

  private onPdu(client: Client, pdu: PDU): void {
    const { session } = client;
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_transmitter':
      case 'bind_receiver':
        return this.onBind(client, pdu, pdu.command.slice('bind_'.length) as BindMode);
      case 'submit_sm':
        return this.onSubmit(client, pdu);
      case 'enquire_link':
        if (!this.faults.ignoreEnquireLink) session.send(pdu.response());
        return;
      case 'unbind':
        this.stats.unbinds++;
        client.mode = null;
        session.send(pdu.response(), () => session.close());
        return;
      default:
        if (!pdu.isResponse()) session.send(pdu.response({ command_status: 0x03 }));
    }
  }

  private onBind(client: Client, pdu: PDU, mode: BindMode): void {
    if (client.mode) {
      client.session.send(pdu.response({ command_status: STATUS.ALYBND }));
      return;
    }
    if (pdu.system_id !== this.o.systemId || pdu.password !== this.o.password) {
      this.stats.bindFailures++;
      this.log.warn({ systemId: pdu.system_id }, 'bind refused');
      client.session.send(pdu.response({ command_status: STATUS.BINDFAIL }));
      return;
    }
    client.systemId = this.o.systemId;
    client.mode = mode;
    this.stats.binds++;
    const resp = pdu.response({ system_id: 'sandbox-smsc' });
    const trailer = this.faults.bytesAfterBindResp;
    this.faults.bytesAfterBindResp = null;
    // One write, so that the client reads both in the same chunk.
    if (trailer) client.session.socket.write(Buffer.concat([resp.toBuffer(), trailer]));
    else client.session.send(resp);
    this.emit('bind', { systemId: client.systemId, mode });
    if (mode !== 'transmitter') this.flushQueued();
  }

  private onSubmit(client: Client, pdu: PDU): void {
    const delayMs = this.faults.responseDelayMs;
    this.unanswered++;
    this.stats.maxUnanswered = Math.max(this.stats.maxUnanswered, this.unanswered);
    let answered = false;
    const reply = (params: Record<string, unknown>, after?: () => void): void => {
      if (answered) return;
      answered = true;
      const send = (): void => {
        this.unanswered--;
        client.session.send(pdu.response(params), after);
      };
      if (delayMs <= 0) return send();
      const timer = setTimeout(() => {
        this.responseTimers.delete(timer);
        send();
      }, delayMs);
      this.responseTimers.add(timer);
    };
    if (!client.mode || client.mode === 'receiver' || !client.systemId) {
      return reply({ command_status: STATUS.INVBNDSTS });
    }
    const fault = takeSubmitFault(this.faults);
    if (fault === 'silent') {
      this.unanswered--;
      return;
    }
    if (fault === 'error') {
      this.stats.errors++;
      return reply({ command_status: this.faults.errorStatus });
    }
    if (fault === 'throttle') {
      this.stats.throttled++;
      return reply({ command_status: THROTTLED });
    }
    if (fault === 'queue-full') {
      this.stats.queueFull++;
      return reply({ command_status: MSGQFUL });
    }
    const destination = international(pdu.destination_addr, pdu.dest_addr_ton);
    if (!/^\+?\d{4,15}$/.test(destination)) return reply({ command_status: STATUS.INVDSTADR });
    const source = international(pdu.source_addr, pdu.source_addr_ton);
    if (!source) return reply({ command_status: STATUS.INVSRCADR });

    const { text, udh } = decodedMessage(pdu);
    const submit: SmscSubmit = {
      smscMessageId: (this.faults.idsRestartOnBind ? ++client.accepted : this.nextId++).toString(16),
      systemId: client.systemId,
      source,
      destination,
      dataCoding: pdu.data_coding ?? 0,
      esmClass: pdu.esm_class ?? 0,
      text,
      concat: concatInfo(udh),
      at: Date.now(),
    };
    this.submits.push(submit);
    this.stats.submits++;
    this.emit('submit', submit);

    let drop = false;
    if (this.faults.dropAfterSubmits !== null && --this.faults.dropAfterSubmits <= 0) {
      this.faults.dropAfterSubmits = null;
      drop = true;
      client.dead = true;
      this.stats.drops++;
    }
    // end(), not destroy(): the answered submits' responses still reach the client, and only
    // what it pipelined behind them is lost, so the test can count exactly.
    reply({ message_id: submit.smscMessageId }, drop ? () => client.session.close() : undefined);
    if (drop) this.log.warn({ smscMessageId: submit.smscMessageId }, 'fault: dropping the connection');

    this.scheduleReceipt(client, submit);
    this.collect(submit);
  }

  private collect(submit: SmscSubmit): void {
    const parts = submit.concat
      ? this.reassembler.add({
          key: `${submit.systemId}|${submit.source}|${submit.destination}`,
          info: submit.concat,
          value: submit,
        })
      : [submit];
    if (!parts) return;
    const message: SmscMessage = {
      systemId: submit.systemId,
      source: submit.source,
      destination: submit.destination,
      text: parts.map((p) => p.text).join(''),
      dataCoding: submit.dataCoding,
      parts: parts.length,
      concatRef: submit.concat ? submit.concat.ref : null,
      smscMessageIds: parts.map((p) => p.smscMessageId),
    };
    this.received.push(message);
    this.emit('message', message);
  }

  private scheduleReceipt(client: Client, s: SmscSubmit): void {
    const state = behaviourFor(s.destination, this.o.numberPlan ?? DEFAULT_NUMBER_PLAN).smsFinalState;
    const receipt: QueuedReceipt = {
      systemId: s.systemId,
      smscMessageId: s.smscMessageId,
      state,
      handset: s.destination,
      sender: s.source,
      submittedAt: new Date(s.at),
      textStart: s.text,
    };
    const f = this.faults;
    const copies = f.duplicateReceipts ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = (this.o.receiptDelayMs ?? 50) + f.receiptDelayMs + Math.random() * f.receiptJitterMs;
      this.dispatchLater(receipt, delay, client);
    }
  }

  private dispatchLater(receipt: QueuedReceipt, delayMs: number, preferred?: Client): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.dispatch(receipt, preferred);
    }, delayMs);
    this.timers.set(timer, receipt);
  }

  /** To the submitting session if it can still receive, else any receiver of that system_id, else queued. */
  private dispatch(r: QueuedReceipt, preferred?: Client): void {
    const canReceive = (c: Client): boolean =>
      !c.dead && c.systemId === r.systemId && (c.mode === 'transceiver' || c.mode === 'receiver');
    const target =
      preferred && this.clients.has(preferred) && canReceive(preferred)
        ? preferred
        : [...this.clients].find(canReceive);
    if (!target) {
      this.queued.push(r);
      return;
    }
    const params = receiptPdu(r, this.faults);
    target.unacked.add(r);
    const sent = target.session.send(new smpp.PDU('deliver_sm', params), (resp) => {
      target.unacked.delete(r);
      if (resp.command_status === 0) {
        this.stats.receiptsAcked++;
        this.emit('receipt-acked', r.smscMessageId);
        return;
      }
      // The ESME could not take it now (ESME_RX_T_APPN and the like): keep it and try again.
      this.stats.receiptsRefused++;
      this.emit('receipt-refused', r.smscMessageId);
      this.dispatchLater(r, this.o.receiptRetryMs ?? 500);
    });
    if (!sent) {
      target.unacked.delete(r);
      this.queued.push(r);
      return;
    }
    this.stats.receiptsSent++;
  }

  private flushQueued(): void {
    for (const r of this.queued.splice(0)) this.dispatch(r);
  }

  private onClose(client: Client): void {
    this.clients.delete(client);
    client.mode = null;
    // Receipts never acknowledged go to the next receiver, as a real SMSC retries them.
    const unacked = [...client.unacked];
    client.unacked.clear();
    for (const r of unacked) this.dispatch(r);
  }
}

function international(addr: string | undefined, ton: number | undefined): string {
  const a = addr ?? '';
  return ton === 1 && a && !a.startsWith('+') ? `+${a}` : a;
}

/** The library decodes short_message per data_coding into { message, udh? }. */
function decodedMessage(pdu: PDU): { text: string; udh: unknown } {
  const sm = pdu.short_message;
  const payload = pdu.message_payload;
  const pick = (v: unknown): { text: string; udh: unknown } | null => {
    if (typeof v === 'string') return { text: v, udh: null };
    if (v && typeof v === 'object' && 'message' in v) {
      const m = (v as { message: unknown; udh?: unknown }).message;
      const text = typeof m === 'string' ? m : Buffer.isBuffer(m) ? m.toString('latin1') : '';
      return { text, udh: (v as { udh?: unknown }).udh ?? null };
    }
    return null;
  };
  const fromSm = pick(sm);
  if (fromSm && (fromSm.text || !payload)) return fromSm;
  return pick(payload) ?? { text: '', udh: null };
}
