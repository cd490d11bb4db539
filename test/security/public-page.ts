// The secure-link page exactly as the worker wires it (workers/shortlinks.ts: its own pool, the
// audit trail in PostgreSQL, codes by SMPP to the test stack's sandbox SMSC), on a database of
// its own so audit rows can be counted, and a rightful user who opens a link with the code the
// SMSC received.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import type { JunkCounter } from '../../channels/shortlink/junk-counter';
import type { TrustProxy } from '../../config/trust-proxy';
import { PostgresCapabilityStore } from '../../store/capability-store';
import { openDatabase } from '../../store/database';
import type { Database } from '../../store/database';
import { buildRegionalChannels } from '../../workers/regional-channels';
import { startShortlinks } from '../../workers/shortlinks';
import type { LinkMaker } from '../../workers/shortlinks';
import { stack } from '../fixtures/stack';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { makePng } from '../shortlink/helpers';

export const AUDIT_HASH_KEY = 'security-test-audit-hash-key';

export interface PublicPage {
  url: string;
  links: LinkMaker;
  junk: JunkCounter;
  /** The worker's main pool (what the sends use); the page must never hold it. */
  mainDb: Database;
  testDb: TestDatabase;
  /** Closes the page (recording the last junk summary); the database stays until drop(). */
  close(): Promise<void>;
  drop(): Promise<void>;
}

export async function startPublicPage(trustProxy: TrustProxy, mainPoolSize = 4): Promise<PublicPage> {
  const testDb = await createTestDatabase('switchboard_security');
  const mainDb = openDatabase(testDb.url, mainPoolSize);
  const logger = pino({ enabled: false });
  const env = {
    ...stack().env,
    SHORTLINK_HOST: '127.0.0.1',
    SHORTLINK_PORT: 0,
    SHORTLINK_TRUST_PROXY: trustProxy,
  };
  const channels = buildRegionalChannels(env, {
    sharedCapabilities: new PostgresCapabilityStore(mainDb, 'security-test-capabilities'),
    logger,
  });
  const page = await startShortlinks({
    env,
    db: mainDb,
    databaseUrl: testDb.url,
    kek: randomBytes(32),
    auditHashKey: AUDIT_HASH_KEY,
    channels,
    logger,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await page.server.close();
    await Promise.all(channels.gateways().map((g) => g.close()));
  };
  return {
    url: page.url,
    links: page.links,
    junk: page.junk,
    mainDb,
    testDb,
    close,
    async drop() {
      await close();
      await mainDb.end();
      await testDb.drop();
    },
  };
}

let numberSerial = 0;
/** A number of the sandbox plan that is not an RCS user; each call a new one. */
export const smsOnlyNumber = (): string => `+1555030${9000 + (++numberSerial % 1000)}`;

export async function createLink(
  page: PublicPage,
): Promise<{ url: string; recipient: string; messageId: string }> {
  const recipient = smsOnlyNumber();
  const messageId = `security-${randomBytes(6).toString('hex')}`;
  const { url } = await page.links.create({
    messageId,
    recipient,
    media: makePng(),
    contentType: 'image/png',
    fileName: 'ticket.png',
  });
  return { url, recipient, messageId };
}

export interface Caller {
  /** Headers every request of this caller carries (X-Forwarded-For as a proxy would add it). */
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
}

export async function call(
  url: string,
  caller: Caller,
  form?: Record<string, string>,
): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  const res = await request(url, {
    method: form ? 'POST' : 'GET',
    dispatcher: caller.dispatcher,
    headers: {
      ...caller.headers,
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const retryAfter = res.headers['retry-after'];
  return {
    status: res.statusCode,
    retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    body: await res.body.text(),
  };
}

/** The code the sandbox SMSC received for this number after `since` messages to it. */
async function codeSentTo(recipient: string, since: number): Promise<string> {
  const toNumber = () =>
    stack().carriers.smsc.received.filter((m) => m.destination.endsWith(recipient.slice(1)));
  for (let i = 0; i < 200; i++) {
    const code = toNumber()
      .slice(since)
      .map((m) => /code to open the file: (\d{6})/.exec(m.text)?.[1])
      .find(Boolean);
    if (code) return code;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no code reached the sandbox SMSC');
}

/** The rightful user: opens the link, reads the code from the SMS, gets the file. */
export async function openAsRecipient(
  link: { url: string; recipient: string },
  caller: Caller,
): Promise<void> {
  const before = stack().carriers.smsc.received.filter((m) =>
    m.destination.endsWith(link.recipient.slice(1)),
  ).length;
  const page = await call(link.url, caller);
  assert.equal(page.status, 200, 'the code form');
  assert.match(page.body, /Enter the code we sent to your phone/);
  const code = await codeSentTo(link.recipient, before);
  const opened = await call(link.url, caller, { code });
  assert.equal(opened.status, 200, 'the file');
  assert.match(opened.body, /<img src="data:image\/png;base64,/);
}

export const garbageToken = (): string => randomBytes(18).toString('base64url');

/** Runs `total` calls of `one`, `concurrency` at a time. */
export async function flood(
  total: number,
  concurrency: number,
  one: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await one(next++);
    }),
  );
}
