// Shared by the shortlink suites: a store on a real database with a settable clock and a sendCode
// that keeps what it was given, the page on a real ephemeral port, a tiny PNG, a log capture.

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import pino from 'pino';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { JunkCounter } from '../../channels/shortlink/junk-counter';
import type { JunkSummary } from '../../channels/shortlink/junk-counter';
import { buildShortlinkApp } from '../../channels/shortlink/shortlink-app';
import type { ShortlinkAppOptions, ShortlinkAuditEvent } from '../../channels/shortlink/shortlink-app';
import type { Database } from '../../store/database';
import { ShortlinkStore } from '../../store/shortlinks';
import type { ShortlinkStoreOptions } from '../../store/shortlinks';

export const T0 = new Date('2026-03-02T10:00:00.000Z');
export const HASH_KEY = 'shortlink-test-recipient-hash-key';

export interface SentCode {
  recipient: string;
  code: string;
  messageId: string;
}

export interface StoreHarness {
  store: ShortlinkStore;
  kek: Buffer;
  codes: SentCode[];
  clock: { now: Date; advance(ms: number): void };
  /** Set to make the next sendCode calls throw. */
  failSends: { value: boolean };
  lastCode(): string;
}

export function makeStore(db: Database, overrides: Partial<ShortlinkStoreOptions> = {}): StoreHarness {
  const codes: SentCode[] = [];
  const clock = {
    now: new Date(T0),
    advance(ms: number) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
  const failSends = { value: false };
  const kek = randomBytes(32);
  const store = new ShortlinkStore({
    db,
    kek,
    recipientHashKey: HASH_KEY,
    baseUrl: 'https://links.example.test/',
    sendCode: async (recipient, code, messageId) => {
      await Promise.resolve();
      if (failSends.value) throw new Error('SMSC unavailable');
      codes.push({ recipient, code, messageId });
    },
    now: () => clock.now,
    ...overrides,
  });
  return {
    store,
    kek,
    codes,
    clock,
    failSends,
    lastCode() {
      const last = codes.at(-1);
      if (!last) throw new Error('no code was sent');
      return last.code;
    },
  };
}

let serial = 0;
export const newMessageId = (): string => `msg-${Date.now().toString(36)}-${++serial}`;
export const newRecipient = (): string => `+1555030${String(1000 + (++serial % 9000)).padStart(4, '0')}`;

/** A valid RGB PNG, width × height, each pixel a different colour. */
export function makePng(width = 24, height = 16): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x * 255) / (width - 1);
      row[2 + x * 3] = (y * 255) / (height - 1);
      row[3 + x * 3] = 160;
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A pino logger whose every line is kept. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

export interface AppHarness {
  app: FastifyInstance;
  base: string;
  events: ShortlinkAuditEvent[];
  /** Requests for links that do not exist, counted rather than audited. */
  junk: JunkCounter;
  /** What the junk counter recorded (on close at the latest). */
  junkSummaries: JunkSummary[];
  logLines: string[];
  /** Set to make audit() throw. */
  failAudit: { value: boolean };
  close(): Promise<void>;
}

export async function startApp(
  options: Omit<ShortlinkAppOptions, 'audit' | 'logger' | 'junk'> & { logger?: Logger },
): Promise<AppHarness> {
  const events: ShortlinkAuditEvent[] = [];
  const junkSummaries: JunkSummary[] = [];
  const failAudit = { value: false };
  const captured = captureLogger();
  const junk = new JunkCounter({
    logger: captured.logger,
    record: async (summary) => {
      await Promise.resolve();
      junkSummaries.push(summary);
    },
  });
  const app = buildShortlinkApp({
    ...options,
    junk,
    logger: options.logger ?? captured.logger,
    audit: async (event) => {
      await Promise.resolve();
      if (failAudit.value) throw new Error('audit store down');
      events.push(event);
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    base: `http://127.0.0.1:${port}`,
    events,
    junk,
    junkSummaries,
    logLines: captured.lines,
    failAudit,
    close: async () => {
      await app.close();
      await junk.stop();
    },
  };
}
