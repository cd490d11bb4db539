import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { codecOf } from '../../codec/data-converter';
import type { DeliveryOutcome, DeliveryRequest, MediaRef } from '../../domain/message';
import { workflowIdFor } from '../../domain/message';
import { stack, testDataConverter } from '../fixtures/stack';
import { distinctiveFile, uploader } from './helpers';

const MAX_PAYLOAD = 64 * 1024;

type Payload = temporal.api.common.v1.IPayload;

/** Every payload anywhere in an event (inputs, results, headers, memos, failures' details). */
function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (Array.isArray(value)) for (const v of value) payloadsIn(v, found);
  else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const o = value as Record<string, unknown>;
    if (o.metadata && o.data instanceof Uint8Array) found.push(o);
    else for (const v of Object.values(o)) payloadsIn(v, found);
  }
  return found;
}

/** The decoded bytes of every payload of every event of a workflow's recorded history. */
async function decodedHistory(workflowId: string): Promise<{ input: unknown; payloads: Buffer[] }> {
  const history = await stack().client.workflow.getHandle(workflowId).fetchHistory();
  const codec = codecOf(testDataConverter());
  const decoded = await codec.decode((history.events ?? []).flatMap((e) => payloadsIn(e)));
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  const [input] = await codec.decode(started);
  return {
    input: JSON.parse(Buffer.from(input?.data ?? []).toString('utf8')),
    payloads: decoded.map((p) => Buffer.from(p.data ?? [])),
  };
}

function assertNoMedia(name: string, decoded: Buffer[], file: Buffer): void {
  assert.ok(decoded.length > 0, `${name}: payloads were found and decoded`);
  const base64 = file.toString('base64');
  for (const data of decoded) {
    assert.ok(data.length <= MAX_PAYLOAD, `${name}: a ${data.length}-byte payload`);
    assert.ok(!data.includes(file.subarray(0, 48)), `${name}: the raw file in a payload`);
    assert.ok(!data.includes(base64.slice(0, 64)), `${name}: the file (base64) in a payload`);
  }
}

describe('media out of workflow history (the claim check)', function () {
  this.timeout(60_000);

  it('a media message: no payload of its history holds the file or exceeds 64 KiB', async () => {
    const { switchboard } = stack();
    const file = distinctiveFile(200 * 1024);
    const sent = await switchboard.send({
      to: '+15550300043',
      text: 'Your ticket',
      media: { data: file, contentType: 'application/pdf', fileName: 'ticket.pdf' },
    });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.shortlink, true);
    const { payloads, input } = (await decodedHistory(sent.workflowId)) as {
      payloads: Buffer[];
      input: DeliveryRequest;
    };
    assertNoMedia('message', payloads, file);
    assert.deepEqual(Object.keys(input.media ?? {}).sort(), ['bytes', 'contentType', 'fileName', 'mediaId']);
  });

  it('a pilot with media: neither the parent nor its children carry the file; children get no media', async () => {
    const { switchboard } = stack();
    const file = distinctiveFile(200 * 1024);
    const sent = await switchboard.send({
      to: '+15550200043',
      text: 'Your ticket',
      flow: 'pilot',
      media: { data: file, contentType: 'image/png', fileName: 'ticket.png' },
    });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.flow, 'pilot');
    assert.equal(outcome.shortlink, true);
    assertNoMedia('parent', (await decodedHistory(sent.workflowId)).payloads, file);
    for (const lane of ['rcs', 'sms']) {
      const { payloads, input } = (await decodedHistory(`${sent.workflowId}-${lane}`)) as {
        payloads: Buffer[];
        input: { request: DeliveryRequest };
      };
      assertNoMedia(`${lane} child`, payloads, file);
      assert.equal(input?.request.media, undefined, `${lane} child input has no media`);
      assert.match(
        input?.request.text ?? '',
        /^Your ticket http:\/\/\S+\/s\//,
        'the child sends the text with the link',
      );
    }
  });
});

describe('a media reference that finds no file', function () {
  this.timeout(60_000);

  /** Starts a message the way the client does, with a reference the client would not make. */
  async function deliver(to: string, tenant: string, media: MediaRef) {
    const messageId = randomUUID();
    const request: DeliveryRequest = {
      messageId,
      to,
      text: 'Your ticket',
      flow: 'standard',
      e2ee: 'off',
      tenant,
      region: 'us',
      submittedAt: new Date().toISOString(),
      media,
    };
    const { client, taskQueue } = stack();
    const handle = await client.workflow.start('deliverMessage', {
      taskQueue,
      workflowId: workflowIdFor(messageId),
      args: [request],
    });
    const outcome = (await handle.result()) as DeliveryOutcome;
    const history = await handle.fetchHistory();
    const failures = (history.events ?? []).flatMap((e) => {
      const f = e.activityTaskFailedEventAttributes?.failure;
      return f ? [f] : [];
    });
    const attempts = (history.events ?? []).flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : [],
    );
    return { messageId, outcome, failures, attempts };
  }

  const smsTo = (to: string) =>
    stack().carriers.smsc.received.filter((m) => m.destination.endsWith(to.slice(1)));

  for (const [name, to, refOf] of [
    [
      'an unknown mediaId',
      '+15550300044',
      () =>
        Promise.resolve({ mediaId: 'A'.repeat(24), contentType: 'image/png', fileName: 'a.png', bytes: 10 }),
    ],
    [
      "another tenant's mediaId",
      '+15550300045',
      () =>
        uploader().upload({
          tenant: 'acme',
          data: distinctiveFile(10),
          contentType: 'image/png',
          fileName: 'a.png',
        }),
    ],
  ] as const) {
    it(`${name}: the shortlink step fails once, typed and non-retryable; the text goes out without a link`, async () => {
      const { messageId, outcome, failures, attempts } = await deliver(to, 'default', await refOf());
      assert.equal(failures.length, 1);
      assert.equal(failures[0]?.applicationFailureInfo?.type, 'MediaNotFoundError');
      assert.equal(failures[0]?.applicationFailureInfo?.nonRetryable, true);
      assert.deepEqual(attempts.slice(0, 1), [1], 'createShortlink ran once, not retried');
      assert.equal(outcome.status, 'delivered');
      assert.equal(outcome.channel, 'sms');
      assert.equal(outcome.shortlink, false);
      const texts = smsTo(to).map((m) => m.text);
      assert.deepEqual(texts, ['Your ticket'], 'the text, without a link');
      const { rows } = await stack().db.query<{ result: string; error_code: string }>(
        `SELECT result, error_code FROM audit_log WHERE message_id = $1 AND event = 'shortlink'`,
        [messageId],
      );
      assert.deepEqual(rows, [{ result: 'failed', error_code: 'MEDIA_NOT_FOUND' }]);
    });
  }

  it('a reference that does not describe its upload is refused as MediaRefError', async () => {
    const ref = await uploader().upload({
      tenant: 'default',
      data: distinctiveFile(10),
      contentType: 'image/png',
      fileName: 'a.png',
    });
    const { failures, outcome } = await deliver('+15550300046', 'default', { ...ref, bytes: 11 });
    assert.equal(failures[0]?.applicationFailureInfo?.type, 'MediaRefError');
    assert.equal(failures[0]?.applicationFailureInfo?.nonRetryable, true);
    assert.equal(outcome.shortlink, false);
  });
});
