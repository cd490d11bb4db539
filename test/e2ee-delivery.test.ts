import assert from 'node:assert/strict';
import { deriveKey } from '../config/secrets';
import { SwitchboardClient } from '../client/switchboard-client';
import { PostgresKeyDirectory } from '../e2ee/key-directory';
import { E2eeSender, loadOrCreateSenderIdentity } from '../e2ee/sender';
import { MemorySenderStateStore } from '../e2ee/sender-state-store';
import type { SandboxPhones } from '../sandbox/phones';
import { codecOf } from '../codec/data-converter';
import { TEST_SECRETS, stack, testDataConverter, workerLog } from './fixtures/stack';

/** An app with client-managed keys: its own MLS state, claiming KeyPackages from the directory. */
async function appClient(): Promise<SwitchboardClient> {
  const { temporal, taskQueue, db } = stack();
  const store = new MemorySenderStateStore();
  const sender = new E2eeSender({
    directory: new PostgresKeyDirectory(db, deriveKey(TEST_SECRETS, 'key-directory')),
    store,
    identity: await loadOrCreateSenderIdentity(store),
  });
  return SwitchboardClient.connect({
    address: temporal.address,
    namespace: 'default',
    taskQueue,
    dataConverter: testDataConverter(),
    messageIdKey: deriveKey(TEST_SECRETS, 'message-id'),
    e2ee: sender,
  });
}

const phones = (): SandboxPhones => {
  const p = stack().carriers.phones;
  if (!p) throw new Error('the test stack runs no sandbox phones');
  return p;
};

const plaintextOf = (entry: { plaintext?: Buffer } | undefined) =>
  entry?.plaintext ? (JSON.parse(entry.plaintext.toString()) as { text: string }).text : undefined;

describe('end-to-end encryption (MLS) through the workflow and the sandbox phones', function () {
  this.timeout(30_000);
  let app: SwitchboardClient;
  before(async () => {
    app = await appClient();
  });
  after(async () => {
    await app.close();
  });

  it('first message with a Welcome, second without; the phone decrypts both; Switchboard saw ciphertext', async () => {
    const to = '+15550100030';
    for (const [i, text] of ['first secret', 'second secret'].entries()) {
      const sent = await app.send({ to, text, e2ee: 'preferred' });
      assert.equal(sent.encrypted, true);
      const outcome = await app.waitForOutcome(sent.messageId);
      assert.equal(outcome.status, 'delivered');
      assert.equal(outcome.channel, 'rcs');
      assert.equal(outcome.e2ee, true);
      assert.deepEqual(
        outcome.attempts.map((a) => [a.channel, a.result, a.e2ee ?? false]),
        [['rcs', 'delivered', true]],
      );
      assert.ok((outcome.timings.e2eeNegotiationMs ?? -1) >= 0);
      const inbox = phones().inbox(to);
      assert.equal(inbox.length, i + 1);
      assert.equal(inbox[i]?.welcome, i === 0, 'a Welcome only with the first message');
      assert.equal(plaintextOf(inbox[i]), text);
    }
  });

  it('required with E2EE: the plaintext reaches nothing server-side, not even the sealed workflow input', async () => {
    const to = '+15550100034';
    const marker = `e2ee-marker-${Date.now()}`;
    const sent = await app.send({ to, text: marker, e2ee: 'required' });
    const outcome = await app.waitForOutcome(sent.messageId);
    assert.equal(outcome.e2ee, true);
    assert.equal(plaintextOf(phones().inbox(to)[0]), marker, 'only the phone can read it');
    const history = await stack().client.workflow.getHandle(sent.workflowId).fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const [input] = await codecOf(testDataConverter()).decode(payloads);
    const decoded = Buffer.from(input?.data ?? []).toString();
    assert.ok(
      !decoded.includes(marker),
      'the decoded workflow input holds only MLS ciphertext and the notice',
    );
    assert.ok(decoded.includes('"ciphertext"'));
    assert.ok(!workerLog.join('').includes(marker));
    const { rows } = await stack().db.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_log WHERE message_id = $1 AND detail::text LIKE '%' || $2 || '%'`,
      [sent.messageId, marker],
    );
    assert.equal(Number(rows[0]?.n), 0);
  });

  it('a recipient with two devices: both decrypt', async () => {
    const to = '+15550100033';
    await phones().start(to, { devices: 2 });
    const sent = await app.send({ to, text: 'to both devices', e2ee: 'required' });
    const outcome = await app.waitForOutcome(sent.messageId);
    assert.equal(outcome.e2ee, true);
    const [entry] = phones().inbox(to);
    assert.equal(entry?.devices.length, 2);
    assert.ok(entry?.devices.every((d) => (d as { ok?: boolean }).ok !== false));
    assert.equal(plaintextOf(entry), 'to both devices');
  });

  it('required to a number without E2EE: the recipient gets the notice, the sender learns why', async () => {
    const sent = await app.send({
      to: '+15550200030',
      text: 'never in clear',
      e2ee: 'required',
      notice: 'Open the app',
    });
    assert.equal(sent.encrypted, false);
    assert.equal(sent.e2eeError, 'NO_KEY_PACKAGES');
    const outcome = await app.waitForOutcome(sent.messageId);
    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.e2ee, false);
    assert.equal(outcome.fallbackReason, 'e2ee_unavailable');
  });

  it('a decrypt failure falls back per policy, is audited and logged for security operations', async () => {
    const to = '+15550100031';
    // Set up the group first, then make the next decrypt fail.
    await app.waitForOutcome((await app.send({ to, text: 'hello', e2ee: 'preferred' })).messageId);
    phones().failDecryptFor(to, 1);
    const sent = await app.send({ to, text: 'will fail', e2ee: 'preferred' });
    const outcome = await app.waitForOutcome(sent.messageId);
    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.e2ee, false);
    assert.equal(outcome.fallbackReason, 'e2ee_failed');
    assert.deepEqual(
      outcome.attempts.map((a) => [a.channel, a.result]),
      [
        ['rcs', 'failed'],
        ['rcs', 'delivered'],
      ],
    );
    assert.match(outcome.attempts[0]?.errorCode ?? '', /^E2EE_DECRYPT_FAILED|^E2EE_/);
    const { rows } = await stack().db.query<{ error_code: string }>(
      `SELECT error_code FROM audit_log WHERE message_id = $1 AND event = 'e2ee_failure'`,
      [sent.messageId],
    );
    assert.equal(rows.length, 1);
    assert.ok(
      workerLog.some((line) => line.includes('"security":"e2ee"') && line.includes('"code":"')),
      'the receipt router logged the E2EE failure code for security operations',
    );
  });
});
