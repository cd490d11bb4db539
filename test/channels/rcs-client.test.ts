// RbmHubClient against the real sandbox hub over HTTP: each number-plan behaviour comes back
// as the answer or typed error the workflow's decisions depend on.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { staticTokenProvider } from '../../channels/rcs/token';
import { RcsPermanentError, RcsTransientError } from '../../channels/rcs/errors';
import { RbmHubClient } from '../../channels/rcs/rbm-client';
import { capabilityFromFeatures } from '../../channels/rcs/capability-probe';
import {
  RCS_FEATURE_E2EE_MLS,
  RCS_FEATURE_FILE_TRANSFER,
  RCS_FEATURE_RICHCARD,
} from '../../channels/rcs/types';
import { SandboxRcsHub } from '../../sandbox/rcs-hub';
import { AGENT_ID, BEARER, CLIENT_TOKEN, clientFor, startHub, startReceiver, waitFor } from './rcs-helpers';
import type { Receiver } from './rcs-helpers';

const E2EE = '+15550100001';
const PLAIN = '+15550200001';
const NOT_RCS = '+15550300001';
const FLAKY = '+15550400001';
const OFFLINE = '+15550500001';
const REJECTS = '+15550600001';
const TEXT_ONLY = '+15550800001';

let seq = 0;
const nextId = (): string => `msg-${process.pid}-${++seq}`;

async function rejectsWith<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
  check: (err: E) => void = () => undefined,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    check(err);
    return true;
  });
}

describe('RCS hub client against the sandbox hub', () => {
  let hub: SandboxRcsHub;
  let url: string;
  let client: RbmHubClient;
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver();
    ({ hub, url, client } = await startHub({ webhookUrl: receiver.url }));
  });
  after(async () => {
    await hub.stop();
    await receiver.stop();
  });
  beforeEach(() => hub.reset());

  describe('capabilities', () => {
    it('answers the features of an E2EE phone, E2EE_MLS included', async () => {
      const caps = await client.getCapabilities(E2EE, 'req-1');
      assert.ok(caps);
      assert.ok(caps.features.includes(RCS_FEATURE_E2EE_MLS));
      assert.ok(caps.features.includes(RCS_FEATURE_FILE_TRANSFER));
      assert.equal(hub.requests[0]?.op, 'capabilities');
      assert.equal(hub.requests[0]?.status, 200);
    });

    it('leaves E2EE_MLS out for a plain RCS phone and file transfer out for a text-only one', async () => {
      const plain = await client.getCapabilities(PLAIN, 'req-2');
      assert.ok(plain && !plain.features.includes(RCS_FEATURE_E2EE_MLS));
      const textOnly = await client.getCapabilities(TEXT_ONLY, 'req-3');
      assert.ok(textOnly && !textOnly.features.includes(RCS_FEATURE_FILE_TRANSFER));
      assert.ok(!textOnly.features.includes(RCS_FEATURE_RICHCARD));
      assert.deepEqual(capabilityFromFeatures(textOnly), { rcs: true, e2ee: false, media: false });
    });

    it('returns null when the hub answers 404 (not an RCS user)', async () => {
      assert.equal(await client.getCapabilities(NOT_RCS, 'req-4'), null);
      assert.equal(hub.requests[0]?.status, 404);
    });

    it('warms from users:batchGet with only the reachable numbers', async () => {
      assert.deepEqual(await client.batchGetReachableUsers([E2EE, NOT_RCS, PLAIN]), [E2EE, PLAIN]);
    });
  });

  describe('send', () => {
    it('surfaces the first 503 as transient and succeeds on the retry (+15550400001)', async () => {
      const id = nextId();
      await rejectsWith(client.sendMessage(FLAKY, id, { text: 'hi' }), RcsTransientError, (e) =>
        assert.equal(e.code, '503'),
      );
      await client.sendMessage(FLAKY, id, { text: 'hi' });
      assert.deepEqual(
        hub.requests.map((r) => r.status),
        [503, 200],
      );
      await waitFor('delivery', () => receiver.events.some((e) => e.messageId === id));
    });

    it('turns a 400 into RcsPermanentError (+15550600001)', async () => {
      await rejectsWith(client.sendMessage(REJECTS, nextId(), { text: 'hi' }), RcsPermanentError, (e) =>
        assert.equal(e.code, '400'),
      );
    });

    it('rejects a file for a phone without file transfer, but not its text', async () => {
      const content = { text: 'see this', fileUrl: 'https://cdn.example/a.jpg' };
      await rejectsWith(client.sendMessage(TEXT_ONLY, nextId(), content), RcsPermanentError);
      await client.sendMessage(TEXT_ONLY, nextId(), { text: 'plain' });
      await client.sendMessage(PLAIN, nextId(), content);
    });

    it('turns 429 with Retry-After into RcsTransientError carrying retryAfterMs', async () => {
      hub.inject({ errorRates: { 429: 1 }, retryAfterSeconds: 7 });
      await rejectsWith(client.sendMessage(PLAIN, nextId(), { text: 'hi' }), RcsTransientError, (e) => {
        assert.equal(e.code, '429');
        assert.equal(e.retryAfterMs, 7000);
      });
      assert.equal(hub.requests[0]?.injected, true);
    });

    it('delivers once when the same messageId is sent twice, and counts the duplicate', async () => {
      const id = nextId();
      await client.sendMessage(PLAIN, id, { text: 'once' });
      await client.sendMessage(PLAIN, id, { text: 'once' });
      await waitFor('delivery', () => receiver.events.some((e) => e.messageId === id));
      await sleep(150); // room for a second delivery, were there one
      assert.equal(receiver.events.filter((e) => e.messageId === id).length, 1);
      assert.equal(hub.counters.duplicateSends, 1);
      assert.deepEqual(
        hub.requests.map((r) => r.status),
        [200, 409],
      );
    });

    it('maps a wrong bearer token to RcsPermanentError 401', async () => {
      const wrong = clientFor(url, 'not-the-token');
      await rejectsWith(wrong.sendMessage(PLAIN, nextId(), { text: 'hi' }), RcsPermanentError, (e) =>
        assert.equal(e.code, '401'),
      );
      await rejectsWith(wrong.getCapabilities(PLAIN, 'r'), RcsPermanentError, (e) =>
        assert.equal(e.code, '401'),
      );
      assert.equal(hub.counters.unauthorized, 2);
    });

    it('reports a slow hub as RcsTransientError timeout', async () => {
      hub.inject({ latencyMs: 400 });
      const impatient = clientFor(url, undefined, 100);
      await rejectsWith(impatient.getCapabilities(PLAIN, 'r'), RcsTransientError, (e) =>
        assert.equal(e.code, 'timeout'),
      );
    });

    it('reports an unreachable hub as RcsTransientError network', async () => {
      const nowhere = clientFor('http://127.0.0.1:1');
      await rejectsWith(nowhere.getCapabilities(PLAIN, 'r'), RcsTransientError, (e) =>
        assert.equal(e.code, 'network'),
      );
    });

    it('never puts the number or the text into an error message', async () => {
      await assert.rejects(client.sendMessage(REJECTS, nextId(), { text: 'secret words' }), (err: Error) => {
        assert.ok(!err.message.includes(REJECTS) && !err.message.includes('secret words'));
        return true;
      });
    });
  });

  describe('revoke', () => {
    it('revokes an undelivered message (offline phone) and it is never delivered', async () => {
      const id = nextId();
      await client.sendMessage(OFFLINE, id, { text: 'late' });
      assert.equal(await client.revokeMessage(OFFLINE, id), 'revoked');
      assert.equal(hub.messageState(OFFLINE, id), 'revoked');
      assert.equal(await client.revokeMessage(OFFLINE, id), 'already-delivered');
    });

    it("answers 'already-delivered' once the DELIVERED event went out", async () => {
      const id = nextId();
      await client.sendMessage(PLAIN, id, { text: 'fast' });
      await waitFor('delivery', () => receiver.events.some((e) => e.messageId === id));
      assert.equal(await client.revokeMessage(PLAIN, id), 'already-delivered');
    });

    it('delivers what a phone missed once an injected outage ends, unless revoked meanwhile', async () => {
      const [kept, dropped] = [nextId(), nextId()];
      hub.inject({ offline: [PLAIN] });
      await client.sendMessage(PLAIN, kept, { text: 'a' });
      await client.sendMessage(PLAIN, dropped, { text: 'b' });
      await sleep(100);
      assert.equal(hub.messageState(PLAIN, kept), 'pending');
      assert.equal(await client.revokeMessage(PLAIN, dropped), 'revoked');
      hub.inject({ offline: [] });
      await waitFor('delivery', () => receiver.events.some((e) => e.messageId === kept));
      await sleep(100);
      assert.ok(!receiver.events.some((e) => e.messageId === dropped));
    });
  });

  it('expires an undelivered message after its ttl with TTL_EXPIRATION_REVOKED', async () => {
    const id = nextId();
    await client.sendMessage(OFFLINE, id, { text: 'otp' }, 1);
    await waitFor('expiry', () => receiver.events.some((e) => e.messageId === id), 3000);
    assert.equal(receiver.events.find((e) => e.messageId === id)?.eventType, 'TTL_EXPIRATION_REVOKED');
    assert.equal(await client.revokeMessage(OFFLINE, id), 'already-delivered');
  });

  it('logs neither numbers, text nor the token, even at debug level', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const loud = new SandboxRcsHub({
      agentId: AGENT_ID,
      bearerToken: BEARER,
      clientToken: CLIENT_TOKEN,
      logger,
      webhookUrl: receiver.url,
    });
    const { url: loudUrl } = await loud.start();
    const loudClient = new RbmHubClient({
      baseUrl: loudUrl,
      agentId: AGENT_ID,
      tokenProvider: staticTokenProvider(BEARER),
      logger,
    });
    try {
      const id = nextId();
      await loudClient.getCapabilities(E2EE, 'r');
      await loudClient.sendMessage(PLAIN, id, { text: 'private words' });
      await loudClient.sendMessage(REJECTS, nextId(), { text: 'private words' }).catch(() => undefined);
      await waitFor('delivery', () => receiver.events.some((e) => e.messageId === id));
      await loudClient.revokeMessage(PLAIN, id);
    } finally {
      await loud.stop();
    }
    assert.ok(lines.length > 5);
    const all = lines.join('\n');
    for (const secret of [E2EE, PLAIN, REJECTS, 'private words', BEARER, CLIENT_TOKEN]) {
      assert.ok(!all.includes(secret), 'a log line leaked sensitive data');
    }
  });
});
