// SmsGateway over SMPP 3.4: encodes and splits texts, keeps a bind alive (rebinding on a new
// session after any loss), limits outstanding submits, and backs off when the SMSC throttles.
import { createHash } from 'node:crypto';
import pino from 'pino';
import type { Logger } from 'pino';
import { classifyStatus } from './command-status';
import { normaliseSmscId, parseDeliveryReceipt, receiptIdCandidates } from './delivery-receipt';
import { SmsPermanentError, SmsTransientError } from './errors';
import { Pacer, SubmitWindow } from './flow-control';
import { segment } from './segmenter';
import type { SmsPart } from './segmenter';
import type { PDU } from './smpp-lib';
import { LinkLostError, MalformedPduError, ResponseTimeoutError, SmppLink } from './smpp-link';
import type {
  SmsGateway,
  SmsPartRef,
  SmsReceipt,
  SmsReceiptHandler,
  SmsSubmission,
  SmsSubmitOptions,
  SmsSubmitResult,
  SmppMeter,
} from './types';

class NoReceiptHandlerError extends Error {
  override readonly name = 'NoReceiptHandlerError';
}
export interface SmppGatewayOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** Our sender: E.164 ("+1555…"), a short code ("12345") or alphanumeric ("Switchboard"). */
  sourceAddr: string;
  /** Max outstanding submit_sm (default 10). Shrinks on throttling, grows back. */
  windowSize?: number;
  /** How long a submit waits for a bind and a window slot (default 10000). */
  submitTimeoutMs?: number;
  /** How long a submit_sm waits for its response (default submitTimeoutMs). */
  responseTimeoutMs?: number;
  enquireLinkMs?: number; // default 30000
  rebindBackoffMs?: number; // first rebind delay, doubling; default 500
  rebindBackoffMaxMs?: number; // default 30000
  /** data_coding this SMSC reads as GSM 03.38 ("SMSC default alphabet"); default 0x00. */
  gsmDataCoding?: number;
  /** Resubmits of one part after ESME_RTHROTTLED / ESME_RMSGQFUL before failing (default 5). */
  throttleRetries?: number;
  throttleBackoffMs?: number; // default 250, doubling per retry, capped at 8x
  queueFullBackoffMs?: number; // default 1000, doubling per retry, capped at 8x
  /** Resubmits of one part whose socket died before its response (default 3). */
  lostConnectionRetries?: number;
  /** submit_sm per second across all parts; 0 = unlimited (default). */
  ratePerSecond?: number;
  /** One transceiver bind (default) or a transmitter plus a receiver bind. */
  bindMode?: 'transceiver' | 'separate';
  /**
   * Texts longer than one SMS: 'udh' (default) sends parts with a concatenation UDH; 'payload'
   * sends one submit_sm with the whole text in message_payload (TLV 0x0424), for SMSCs that
   * split themselves. Either way each submit_sm counts once against the rate.
   */
  longMessages?: 'udh' | 'payload';
  logger?: Logger;
  meter?: SmppMeter;
}

type Resolved = Required<Omit<SmppGatewayOptions, 'logger' | 'systemType' | 'meter'>> & {
  systemType: string;
};

const RECENT_IDS_MAX = 100_000;
const MAX_PAYLOAD_OCTETS = 64_000; // message_payload's TLV length is 16 bits; leave PDU room
const REGISTERED_DELIVERY_FINAL = 0x01;
const ESM_CLASS_UDHI = 0x40;

/** One submit_sm's content: a segment, or the whole text for message_payload. */
type WirePart = SmsPart & { messagePayload?: boolean };

/** The whole text as one message_payload: the parts' payloads without their UDHs. */
function payloadPart(parts: SmsPart[]): WirePart {
  const payload = Buffer.concat(parts.map((p) => p.payload));
  if (payload.length > MAX_PAYLOAD_OCTETS) throw new SmsPermanentError('message_too_long');
  return { payload, messagePayload: true };
}

function address(addr: string): { ton: number; npi: number; addr: string } {
  if (/^\+\d+$/.test(addr)) return { ton: 0x01, npi: 0x01, addr: addr.slice(1) }; // international
  if (/^\d+$/.test(addr)) return { ton: 0x00, npi: 0x01, addr }; // unknown: short codes, national
  return { ton: 0x05, npi: 0x00, addr }; // alphanumeric sender
}

export class SmppGateway implements SmsGateway {
  private readonly o: Resolved;
  private readonly log: Logger;
  private readonly tx: SmppLink;
  private readonly links: SmppLink[];
  private readonly window: SubmitWindow;
  private readonly pacer: Pacer;
  private readonly handlers: SmsReceiptHandler[] = [];
  /** normalised SMSC id → id as submit_sm_resp gave it, to canonicalise receipt ids. */
  private readonly recentIds = new Map<string, string>();
  /**
   * Parts on the wire right now, by message id, part and content: a second submit of the same part
   * while the first is unanswered (an activity retry overlapping a slow attempt) waits for it.
   */
  private readonly partsInFlight = new Map<string, Promise<string>>();
  private closed = false;
  private readonly meter: SmppMeter | undefined;

  constructor(options: SmppGatewayOptions) {
    const submitTimeoutMs = options.submitTimeoutMs ?? 10_000;
    this.o = {
      host: options.host,
      port: options.port,
      systemId: options.systemId,
      password: options.password,
      systemType: options.systemType ?? '',
      sourceAddr: options.sourceAddr,
      windowSize: options.windowSize ?? 10,
      submitTimeoutMs,
      responseTimeoutMs: options.responseTimeoutMs ?? submitTimeoutMs,
      enquireLinkMs: options.enquireLinkMs ?? 30_000,
      rebindBackoffMs: options.rebindBackoffMs ?? 500,
      rebindBackoffMaxMs: options.rebindBackoffMaxMs ?? 30_000,
      gsmDataCoding: options.gsmDataCoding ?? 0x00,
      throttleRetries: options.throttleRetries ?? 5,
      throttleBackoffMs: options.throttleBackoffMs ?? 250,
      queueFullBackoffMs: options.queueFullBackoffMs ?? 1000,
      lostConnectionRetries: options.lostConnectionRetries ?? 3,
      ratePerSecond: options.ratePerSecond ?? 0,
      bindMode: options.bindMode ?? 'transceiver',
      longMessages: options.longMessages ?? 'udh',
    };
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'smpp-gateway' });
    this.meter = options.meter;
    this.window = new SubmitWindow(this.o.windowSize);
    this.pacer = new Pacer(this.o.ratePerSecond);
    const link = (bindMode: 'transceiver' | 'transmitter' | 'receiver'): SmppLink =>
      new SmppLink({
        host: this.o.host,
        port: this.o.port,
        systemId: this.o.systemId,
        password: this.o.password,
        systemType: this.o.systemType,
        bindMode,
        enquireLinkMs: this.o.enquireLinkMs,
        responseTimeoutMs: this.o.responseTimeoutMs,
        rebindBackoffMs: this.o.rebindBackoffMs,
        rebindBackoffMaxMs: this.o.rebindBackoffMaxMs,
        logger: this.log,
        onDeliverSm: (pdu) => this.onDeliverSm(pdu),
        ...(options.meter ? { onBind: (result) => options.meter?.bind(result) } : {}),
      });
    this.links =
      this.o.bindMode === 'separate' ? [link('transmitter'), link('receiver')] : [link('transceiver')];
    this.tx = this.links[0] as SmppLink;
    for (const l of this.links) l.start();
  }

  /** True while every bind is up. */
  get bound(): boolean {
    return this.links.every((l) => l.bound);
  }

  /** Sessions bound right now (one per bind that is up). */
  get boundSessions(): number {
    return this.links.filter((l) => l.bound).length;
  }

  /** The send window now: its size (halved by throttling, grown back by accepted submits) and use. */
  get sendWindow(): { size: number; outstanding: number } {
    return { size: this.window.size, outstanding: this.window.outstanding };
  }

  /** Resolves when every bind is up; rejects like submit() would (timeout, refused bind). */
  async ready(timeoutMs = this.o.submitTimeoutMs): Promise<void> {
    await Promise.all(this.links.map((l) => l.ready(timeoutMs)));
  }

  onReceipt(handler: SmsReceiptHandler): void {
    this.handlers.push(handler);
  }

  /**
   * Submits every part of the text, one after another, and resolves with their SMSC ids. Parts in
   * `options.alreadyAccepted` are not submitted again (the concatenation reference derives from the
   * message id, so a handset reassembles them with the resent ones); see SmsSubmitOptions.
   */
  async submit(message: SmsSubmission, options: SmsSubmitOptions = {}): Promise<SmsSubmitResult> {
    if (this.closed) throw new SmsTransientError('closed');
    const seg = segment(message.text, { messageId: message.messageId, gsmDataCoding: this.o.gsmDataCoding });
    const parts: WirePart[] =
      this.o.longMessages === 'payload' && seg.parts.length > 1 ? [payloadPart(seg.parts)] : seg.parts;
    const total = parts.length;
    let accepted = options.alreadyAccepted;
    if (accepted && accepted.parts !== total) {
      // The text splits differently now (a changed setting): old and new parts would never
      // reassemble together, so the whole message goes again.
      this.log.warn(
        { messageId: message.messageId, parts: total, earlierParts: accepted.parts },
        'earlier attempt used another part count: resubmitting every part',
      );
      accepted = undefined;
    }
    const ids: string[] = [];
    const submittedParts: number[] = [];
    // Parts go one after another so the SMSC sees them in order; concurrency comes from messages.
    for (const [i, part] of parts.entries()) {
      const ref: SmsPartRef = { part: i + 1, parts: total };
      const earlier = accepted?.smscMessageIds.get(ref.part);
      if (earlier !== undefined) {
        ids.push(earlier);
        continue;
      }
      if (options.onPartSubmitting) await options.onPartSubmitting(ref);
      const id = await this.submitPartOnce(message, seg.dataCoding, part, ref);
      if (options.onPartAccepted) await options.onPartAccepted(ref, id);
      ids.push(id);
      submittedParts.push(ref.part);
    }
    this.log.debug(
      { messageId: message.messageId, smscMessageIds: ids, submittedParts, encoding: seg.encoding },
      'submitted',
    );
    return { smscMessageIds: ids, encoding: seg.encoding, submittedParts };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.window.failAll(new SmsTransientError('closed'));
    await this.window.drained(Math.min(this.o.responseTimeoutMs, 2000));
    await Promise.all(this.links.map((l) => l.close()));
  }

  /** Joins a submit of the very same part that is still waiting for its answer, else submits it. */
  private async submitPartOnce(
    m: SmsSubmission,
    dataCoding: number,
    part: WirePart,
    ref: SmsPartRef,
  ): Promise<string> {
    // A digest, so that the map holds neither the number nor the text.
    const key = createHash('sha256')
      .update(JSON.stringify([m.messageId, m.to, ref.parts, ref.part]))
      .update(part.udh ?? Buffer.alloc(0))
      .update(part.payload)
      .digest('base64');
    const running = this.partsInFlight.get(key);
    if (running) {
      const joined = await running.then(
        (id) => id,
        () => null, // it failed: this caller makes its own attempt
      );
      if (joined !== null) {
        this.log.debug({ messageId: m.messageId, part: ref.part }, 'joined the same part already in flight');
        return joined;
      }
    }
    const submitting = this.submitPart(m, dataCoding, part, ref.part, ref.parts);
    this.partsInFlight.set(key, submitting);
    try {
      return await submitting;
    } finally {
      if (this.partsInFlight.get(key) === submitting) this.partsInFlight.delete(key);
    }
  }

  private async submitPart(
    m: SmsSubmission,
    dataCoding: number,
    part: WirePart,
    seq: number,
    total: number,
  ): Promise<string> {
    const src = address(this.o.sourceAddr);
    const dst = address(m.to);
    const params = {
      source_addr_ton: src.ton,
      source_addr_npi: src.npi,
      source_addr: src.addr,
      dest_addr_ton: dst.ton,
      dest_addr_npi: dst.npi,
      destination_addr: dst.addr,
      esm_class: part.udh ? ESM_CLASS_UDHI : 0,
      registered_delivery: REGISTERED_DELIVERY_FINAL,
      data_coding: dataCoding,
      // A Buffer (or Buffers in the { udh, message } form) is sent as is: the library's own
      // encoder would mislabel the data_coding.
      ...(part.messagePayload
        ? { short_message: Buffer.alloc(0), message_payload: part.payload }
        : { short_message: part.udh ? { udh: part.udh, message: part.payload } : part.payload }),
    };
    const log = this.log.child({ messageId: m.messageId, part: seq, parts: total });
    let flowRetries = 0;
    let lostRetries = 0;
    for (;;) {
      if (this.closed) throw new SmsTransientError('closed');
      const release = await this.window.acquire(this.o.submitTimeoutMs);
      let resp: PDU;
      try {
        await this.pacer.take();
        const started = performance.now();
        resp = await this.tx.send('submit_sm', params, this.o.submitTimeoutMs, this.o.responseTimeoutMs);
        this.meter?.submitted((performance.now() - started) / 1000);
      } catch (err) {
        if (err instanceof LinkLostError) {
          // Ambiguous: the SMSC may have taken it. Resending risks a duplicate part; failing makes
          // the caller resend the whole message, which duplicates more.
          if (lostRetries++ < this.o.lostConnectionRetries && !this.closed) {
            log.warn('socket lost before submit_sm_resp; resubmitting after rebind');
            continue;
          }
          throw new SmsTransientError('connection_lost');
        }
        // Just as ambiguous, but the unparsable PDU may have been this very answer, so resending at
        // once could meet it again and again: the caller retries with its backoff and its record
        // of which parts were accepted (README, "Duplicate SMS").
        if (err instanceof MalformedPduError) throw new SmsTransientError('malformed_pdu');
        if (err instanceof ResponseTimeoutError) throw new SmsTransientError('timeout');
        throw err;
      } finally {
        release();
      }
      if (resp.command_status === 0) {
        this.window.grow();
        const id = typeof resp.message_id === 'string' ? resp.message_id : '';
        this.remember(id);
        return id;
      }
      const c = classifyStatus(resp.command_status);
      if (c.backoff && flowRetries < this.o.throttleRetries) {
        const base = c.backoff === 'throttle' ? this.o.throttleBackoffMs : this.o.queueFullBackoffMs;
        const delay = base * Math.min(2 ** flowRetries, 8);
        if (c.backoff === 'throttle') this.meter?.throttled();
        flowRetries++;
        this.window.shrink();
        this.pacer.pause(delay);
        log.warn({ code: c.code, delayMs: delay, window: this.window.size }, 'SMSC asked us to slow down');
        continue;
      }
      log.warn({ code: c.code }, 'submit_sm refused');
      throw c.transient ? new SmsTransientError(c.code) : new SmsPermanentError(c.code);
    }
  }

  private remember(id: string): void {
    const key = normaliseSmscId(id);
    this.recentIds.delete(key);
    this.recentIds.set(key, id);
    if (this.recentIds.size > RECENT_IDS_MAX) {
      const oldest = this.recentIds.keys().next().value;
      if (oldest !== undefined) this.recentIds.delete(oldest);
    }
  }

  /** The submit_sm_resp form of a receipt id when we know it (hex/decimal/padding differences). */
  private canonicalId(receiptId: string): string {
    for (const candidate of receiptIdCandidates(receiptId)) {
      const known = this.recentIds.get(normaliseSmscId(candidate));
      if (known !== undefined) return known;
    }
    return receiptId;
  }

  /** Resolves once every handler took the receipt; a rejection leaves it to the SMSC's redelivery. */
  private async onDeliverSm(pdu: PDU): Promise<void> {
    const parsed = parseDeliveryReceipt(pdu);
    if (!parsed) {
      this.log.debug('deliver_sm that is not a readable receipt: answered and ignored');
      return;
    }
    const receipt: SmsReceipt = { ...parsed, smscMessageId: this.canonicalId(parsed.smscMessageId) };
    this.log.debug({ smscMessageId: receipt.smscMessageId, state: receipt.state }, 'receipt');
    // Acknowledging a receipt nobody stored would lose it: refused, the SMSC offers it again.
    if (this.handlers.length === 0) throw new NoReceiptHandlerError('no receipt handler on this gateway yet');
    await Promise.all(this.handlers.map(async (handler) => handler(receipt)));
  }
}
