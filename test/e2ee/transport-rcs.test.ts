// End-to-end encrypted RCS on real parts: an app-side E2eeSender claims the sandbox phone's
// KeyPackages over HTTP from Switchboard's key directory (PostgreSQL), encrypts, sends through
// RbmHubClient to the sandbox hub, whose phones decrypt; the signed webhook reaches the
// production receipts server and its router.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { RcsPermanentError } from '../../channels/rcs/errors';
import { RbmHubClient } from '../../channels/rcs/rbm-client';
import { toAgentMessage } from '../../channels/rcs/rbm-wire';
import { staticTokenProvider } from '../../channels/rcs/token';
import { RCS_FEATURE_E2EE_MLS } from '../../channels/rcs/types';
import type { RcsContent } from '../../channels/rcs/types';
import { processRbmWebhookPost, signRbmEventBody } from '../../channels/rcs/webhook';
import { HttpKeyDirectory } from '../../e2ee/key-directory-http';
import { generateIdentity } from '../../e2ee/mls';
import { E2eeSender } from '../../e2ee/sender';
import type { EncryptForResult } from '../../e2ee/sender';
import { MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { SandboxPhones } from '../../sandbox/phones';
import type { SandboxRcsHub } from '../../sandbox/rcs-hub';
import { AGENT_ID, BEARER, CLIENT_TOKEN, startHub, waitFor } from '../channels/rcs-helpers';
import { freshNumber, openE2eeTestDb, text } from './e2ee-fixtures';
import type { E2eeTestDb } from './e2ee-fixtures';
import { DIRECTORY_TOKEN, RecordingAgent, captureLog, startSwitchboardEndpoint } from './transport-helpers';
import type { CapturedLog, RoutedEvent, SwitchboardEndpoint } from './transport-helpers';

const e2eeContent = (sealed: EncryptForResult): RcsContent => ({
  text: '',
  e2ee: { ciphertext: sealed.ciphertext, ...(sealed.welcome ? { welcome: sealed.welcome } : {}) },
});

/** The hub's memory of accepted messages, as JSON (timers left out). */
function messageBookJson(hub: SandboxRcsHub): string {
  const book = hub['book'] as unknown as { messages: Map<string, unknown> };
  return JSON.stringify([...book.messages.values()], (key, value: unknown) =>
    key.endsWith('Timer') ? undefined : value,
  );
}

describe('E2EE transport: MLS over RBM through the sandbox hub and its phones', () => {
  let env: E2eeTestDb;
  let phones: SandboxPhones;
  let endpoint: SwitchboardEndpoint;
  let hub: SandboxRcsHub;
  let rbm: RbmHubClient;
  let wire: RecordingAgent;
  let sender: E2eeSender;
  let hubLog: CapturedLog;
  let switchboardLog: CapturedLog;
  const markers: string[] = [];
  const ciphertexts: string[] = [];
  const numbers: string[] = [];

  const marker = (): string => {
    const m = `PLAINTEXT-MARKER-${randomUUID()}`;
    markers.push(m);
    return m;
  };
  const seal = async (to: string, plaintext: string): Promise<EncryptForResult> => {
    const sealed = await sender.encryptFor(to, plaintext);
    ciphertexts.push(sealed.ciphertext.toString('base64'));
    if (sealed.welcome) ciphertexts.push(sealed.welcome.toString('base64'));
    return sealed;
  };
  const eventFor = async (messageId: string): Promise<RoutedEvent> => {
    await waitFor(`the event of ${messageId}`, () =>
      endpoint.events.some((e) => e.rbmMessageId === messageId),
    );
    return endpoint.events.find((e) => e.rbmMessageId === messageId) as RoutedEvent;
  };
  /** A recipient whose phone published its KeyPackages when the app looked up its capabilities. */
  const e2eeRecipient = async (): Promise<string> => {
    const to = freshNumber('+1555010');
    numbers.push(to);
    const capabilities = await rbm.getCapabilities(to, randomUUID());
    assert.ok(capabilities?.features.includes(RCS_FEATURE_E2EE_MLS));
    assert.equal(phones.isStarted(to), true, 'the lookup started the phone');
    return to;
  };

  before(async () => {
    env = await openE2eeTestDb('switchboard_e2ee_rcs');
    phones = new SandboxPhones({ directory: env.directory, oneTimeBatch: 3, lowWatermark: 1 });
    switchboardLog = captureLog();
    endpoint = await startSwitchboardEndpoint(env.directory, switchboardLog.logger);
    hubLog = captureLog();
    ({ hub } = await startHub({ webhookUrl: endpoint.webhookUrl, phones, logger: hubLog.logger }));
    wire = new RecordingAgent();
    const address = hub['app'].server.address() as { port: number };
    rbm = new RbmHubClient({
      baseUrl: `http://127.0.0.1:${address.port}`,
      agentId: AGENT_ID,
      tokenProvider: staticTokenProvider(BEARER),
      timeoutMs: 5000,
      dispatcher: wire,
    });
    // The app: its own MLS state, KeyPackages claimed from Switchboard over HTTP.
    sender = new E2eeSender({
      directory: new HttpKeyDirectory({ baseUrl: endpoint.baseUrl, bearerToken: DIRECTORY_TOKEN }),
      store: new MemorySenderStateStore(),
      identity: await generateIdentity(),
    });
  });
  after(async () => {
    // Each step is bounded, so a slow close under load cannot hang the suite.
    const within = (p: Promise<unknown> | undefined) =>
      Promise.race([p, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await within(hub?.stop());
    await within(endpoint?.stop());
    await within(wire?.destroy());
    await within(env?.testDb.drop());
  });
  afterEach(() => phones.clearFaults());

  it('delivers the first message with a Welcome and the second without; the phone reads both', async () => {
    const to = await e2eeRecipient();
    const [m1, m2] = [marker(), marker()];

    const first = await seal(to, m1);
    assert.ok(first.welcome, 'a new group: the first message carries the Welcome');
    const id1 = randomUUID();
    await rbm.sendMessage(to, id1, e2eeContent(first));
    const e1 = await eventFor(id1);
    assert.equal(e1.eventType, 'DELIVERED');
    assert.equal(e1.errorCode, null);
    assert.equal(e1.workflowId, `deliver-${id1}`);

    const second = await seal(to, m2);
    assert.equal(second.welcome, null, 'the group is reused');
    assert.equal(second.groupId, first.groupId);
    const id2 = randomUUID();
    await rbm.sendMessage(to, id2, e2eeContent(second));
    assert.equal((await eventFor(id2)).eventType, 'DELIVERED');

    assert.deepEqual(
      phones.inbox(to).map((e) => [e.messageId, e.welcome, e.ok, e.plaintext && text(e.plaintext)]),
      [
        [id1, true, true, m1],
        [id2, false, true, m2],
      ],
    );
    assert.equal(hub.messageState(to, id1), 'delivered');
    assert.equal(hub.messageState(to, id2), 'delivered');

    // On the wire: our extension exactly, no text, the Welcome only on the first message.
    const sent = wire.bodies
      .map((b) => JSON.parse(b) as { contentMessage: Record<string, Record<string, unknown>> })
      .filter((b) => b.contentMessage.e2eeMessage)
      .slice(-2);
    assert.deepEqual(Object.keys(sent[0]?.contentMessage ?? {}), ['e2eeMessage']);
    assert.deepEqual(Object.keys(sent[0]?.contentMessage.e2eeMessage ?? {}).sort(), [
      'cipherSuite',
      'ciphertext',
      'protocol',
      'welcome',
    ]);
    assert.deepEqual(sent[0]?.contentMessage.e2eeMessage, {
      protocol: 'mls10',
      cipherSuite: 1,
      ciphertext: first.ciphertext.toString('base64'),
      welcome: first.welcome.toString('base64'),
    });
    assert.equal(sent[1]?.contentMessage.e2eeMessage?.welcome, undefined);
    assert.ok(!wire.bodies.join('\n').includes(m1) && !wire.bodies.join('\n').includes(m2));
  });

  it('reports a forced decrypt failure as E2EE_DECRYPT_FAILED with the phone\u2019s code, and the group survives', async () => {
    const to = await e2eeRecipient();
    const first = await seal(to, marker());
    const id1 = randomUUID();
    await rbm.sendMessage(to, id1, e2eeContent(first));
    assert.equal((await eventFor(id1)).eventType, 'DELIVERED');

    phones.failDecryptFor(to, 1);
    const id2 = randomUUID();
    await rbm.sendMessage(to, id2, e2eeContent(await seal(to, marker())));
    const failed = await eventFor(id2);
    assert.equal(failed.eventType, 'E2EE_DECRYPT_FAILED');
    assert.equal(failed.errorCode, 'DECRYPT_FAILED');
    assert.equal(hub.messageState(to, id2), 'delivered', 'it reached the phone; it just could not read it');
    assert.equal(hub.stats.e2eeDecryptFailures >= 1, true);

    const m3 = marker();
    const id3 = randomUUID();
    await rbm.sendMessage(to, id3, e2eeContent(await seal(to, m3)));
    assert.equal((await eventFor(id3)).eventType, 'DELIVERED');
    assert.equal(text(phones.inbox(to).at(-1)?.plaintext ?? new Uint8Array()), m3);
    // The receipt router flagged the failure for security operations, by code only.
    assert.match(switchboardLog.text(), /"security":"e2ee".*"code":"DECRYPT_FAILED"/);
  });

  it('answers E2EE_DECRYPT_FAILED with NOT_IN_WELCOME when the Welcome is not for this phone', async () => {
    // An app holding a KeyPackage of some other device (say, the phone before a reinstall).
    const to = await e2eeRecipient();
    const other = freshNumber('+1555010');
    await phones.start(other);
    const foreign = await env.directory.claim(other);
    const stale = new E2eeSender({
      directory: { claim: () => Promise.resolve(foreign) },
      store: new MemorySenderStateStore(),
      identity: await generateIdentity(),
    });
    const id = randomUUID();
    await rbm.sendMessage(to, id, e2eeContent(await stale.encryptFor(to, marker())));
    const event = await eventFor(id);
    assert.equal(event.eventType, 'E2EE_DECRYPT_FAILED');
    assert.equal(event.errorCode, 'NOT_IN_WELCOME');
  });

  it('refuses an e2eeMessage to an RCS phone without E2EE_MLS with 400, and nothing is delivered', async () => {
    const to = freshNumber('+1555020');
    numbers.push(to);
    const capabilities = await rbm.getCapabilities(to, randomUUID());
    assert.ok(capabilities && !capabilities.features.includes(RCS_FEATURE_E2EE_MLS));
    assert.equal(phones.isStarted(to), false, 'no phone is started for a non-E2EE number');

    const e2eeTo = await e2eeRecipient();
    const sealed = await seal(e2eeTo, marker());
    const id = randomUUID();
    await assert.rejects(rbm.sendMessage(to, id, e2eeContent(sealed)), (err: unknown) => {
      assert.ok(err instanceof RcsPermanentError, String(err));
      assert.equal(err.code, '400');
      return true;
    });
    assert.equal(hub.messageState(to, id), undefined);
    assert.equal(hub.requests.at(-1)?.status, 400);
  });

  it('refuses malformed e2eeMessage bodies with 400 INVALID_ARGUMENT', async () => {
    const to = await e2eeRecipient();
    const good = { protocol: 'mls10', cipherSuite: 1, ciphertext: 'AAECAw==' };
    const bodies: unknown[] = [
      { e2eeMessage: null },
      { e2eeMessage: 'AAECAw==' },
      { e2eeMessage: { ...good, protocol: 'mls11' } },
      { e2eeMessage: { ...good, cipherSuite: 2 } },
      { e2eeMessage: { ...good, ciphertext: '' } },
      { e2eeMessage: { ...good, ciphertext: 'not base64!' } },
      { e2eeMessage: { ...good, welcome: '' } },
      { e2eeMessage: { ...good, welcome: 7 } },
      { e2eeMessage: good, text: 'both' },
    ];
    for (const contentMessage of bodies) {
      const res = await request(
        `${hubUrl()}/v1/phones/${encodeURIComponent(to)}/agentMessages?agentId=${AGENT_ID}&messageId=${randomUUID()}`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' },
          body: JSON.stringify({ contentMessage }),
        },
      );
      const body = (await res.body.json()) as { error: { status: string } };
      assert.equal(res.statusCode, 400, JSON.stringify(contentMessage));
      assert.equal(body.error.status, 'INVALID_ARGUMENT');
    }
    // And the client refuses to put a file beside ciphertext.
    assert.throws(
      () =>
        toAgentMessage({
          text: '',
          fileUrl: 'https://example.test/f',
          e2ee: { ciphertext: Buffer.from([1]) },
        }),
      RcsPermanentError,
    );
    assert.deepEqual(
      Object.keys(
        toAgentMessage({ text: 'never sent', e2ee: { ciphertext: Buffer.from([1]) } }).contentMessage,
      ),
      ['e2eeMessage'],
    );
  });

  it('drops the ciphertext of a message revoked before the phone came back, and the phone never sees it', async () => {
    const to = await e2eeRecipient();
    const sealed = await seal(to, marker());
    hub.inject({ offline: [to] });
    const id = randomUUID();
    await rbm.sendMessage(to, id, e2eeContent(sealed));
    assert.equal(hub.messageState(to, id), 'pending');
    assert.ok(messageBookJson(hub).length > 0);
    assert.equal(await rbm.revokeMessage(to, id), 'revoked');
    hub.inject({ offline: [] });
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(hub.messageState(to, id), 'revoked');
    assert.equal(phones.inbox(to).length, 0);
    assert.ok(!endpoint.events.some((e) => e.rbmMessageId === id));
  });

  it('treats a message the phone is decrypting as delivered: a revoke then answers already-delivered', async () => {
    let release: () => void = () => undefined;
    const decrypting = new Promise<void>((resolve) => (release = resolve));
    let handed = 0;
    const { hub: slow, client } = await startHub({
      webhookUrl: endpoint.webhookUrl,
      phones: {
        ensure: () => Promise.resolve(),
        receive: async () => {
          handed++;
          await decrypting;
          return { ok: true };
        },
      },
    });
    try {
      const to = '+15550109998';
      const id = randomUUID();
      await client.sendMessage(to, id, { text: '', e2ee: { ciphertext: Buffer.from('opaque') } });
      await waitFor('the phone to get the message', () => handed === 1);
      assert.equal(await client.revokeMessage(to, id), 'already-delivered');
      release();
      assert.equal((await eventFor(id)).eventType, 'DELIVERED');
      assert.equal(slow.messageState(to, id), 'delivered');
    } finally {
      release();
      await slow.stop();
    }
  });

  it('reports a phone that throws as E2EE_DECRYPT_FAILED PHONE_ERROR, not as delivered', async () => {
    const receiver = captureLog();
    const { hub: broken, client } = await startHub({
      webhookUrl: endpoint.webhookUrl,
      logger: receiver.logger,
      phones: {
        ensure: () => Promise.resolve(),
        receive: () => Promise.reject(new Error('device crashed holding +15550109999')),
      },
    });
    try {
      const id = randomUUID();
      await client.sendMessage('+15550109999', id, { text: '', e2ee: { ciphertext: Buffer.from('opaque') } });
      const event = await eventFor(id);
      assert.equal(event.eventType, 'E2EE_DECRYPT_FAILED');
      assert.equal(event.errorCode, 'PHONE_ERROR');
      assert.ok(receiver.text().includes('sandbox phone failed'));
      assert.ok(!receiver.text().includes('+15550109999'));
    } finally {
      await broken.stop();
    }
  });

  it('decodes errorCode from a signed event and drops one that is not a code', () => {
    const base = {
      agentId: AGENT_ID,
      senderPhoneNumber: '+15550100001',
      eventType: 'E2EE_DECRYPT_FAILED',
      eventId: 'e1',
      messageId: 'm1',
      sendTime: new Date().toISOString(),
    };
    const decode = (event: Record<string, unknown>) => {
      const { body, signature } = signRbmEventBody(event, CLIENT_TOKEN);
      const post = processRbmWebhookPost(body, signature, CLIENT_TOKEN);
      assert.equal(post.kind, 'event');
      return post.kind === 'event' ? post.event : null;
    };
    assert.equal(decode({ ...base, errorCode: 'GENERATION_TOO_FAR' })?.errorCode, 'GENERATION_TOO_FAR');
    assert.equal(
      decode({ ...base, errorCode: 'free text with a number +15550100001' })?.errorCode,
      undefined,
    );
    assert.equal(decode(base)?.eventType, 'E2EE_DECRYPT_FAILED');
  });

  it('keeps no plaintext anywhere in the hub, and no ciphertext once delivered; logs name no number', () => {
    assert.ok(markers.length >= 6 && ciphertexts.length >= 6);
    const requests = JSON.stringify(hub.requests);
    const book = messageBookJson(hub);
    const logs = hubLog.text() + switchboardLog.text();
    for (const m of markers) {
      assert.ok(!requests.includes(m), 'request log');
      assert.ok(!book.includes(m), 'message book');
      assert.ok(!logs.includes(m), 'logs');
    }
    for (const c of ciphertexts) {
      assert.ok(!requests.includes(c), 'no ciphertext in the request log');
      assert.ok(
        !book.includes(c) && !book.includes('"ciphertext"'),
        'no ciphertext left in the message book',
      );
      assert.ok(!logs.includes(c), 'no ciphertext in the logs');
    }
    for (const n of numbers) assert.ok(!logs.includes(n), 'no number in the logs');
    assert.ok(hubLog.text().length > 0 && switchboardLog.text().length > 0, 'both logs were written');
  });

  function hubUrl(): string {
    return `http://127.0.0.1:${(hub['app'].server.address() as { port: number }).port}`;
  }
});
