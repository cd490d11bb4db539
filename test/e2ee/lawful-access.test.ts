// Escrowed tenants end to end, on the test stack: the app adds the escrow member it fetched from
// Switchboard, the worker archives every encrypted message before sending it (and refuses one the
// escrow could not read), and the lawfulAccess workflow opens exactly the named messages only
// with k custodian approvals, auditing every step and never leaving the request key behind.

import assert from 'node:assert/strict';
import { taskQueues } from '../../config/task-queues';
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { SwitchboardClient } from '../../client/switchboard-client';
import type { LawfulAccessClient } from '../../client/lawful-access-client';
import { deriveKey } from '../../config/secrets';
import { accessWorkflowIdFor, resultSealContext, shareSealContext } from '../../domain/lawful-access';
import type { AccessResult, AccessStatus, LawfulAccessRequest } from '../../domain/lawful-access';
import { createEscrow, encodeEscrowShare } from '../../e2ee/escrow';
import type { EscrowRecord, EscrowShare } from '../../e2ee/escrow';
import { fetchEscrowMember } from '../../e2ee/escrow-member-http';
import { PostgresKeyDirectory } from '../../e2ee/key-directory';
import { SealedBoxError, generateSealingKeyPair, openSealed, sealTo } from '../../e2ee/sealed-box';
import { E2eeSender, loadOrCreateSenderIdentity } from '../../e2ee/sender';
import type { EscrowMemberPublic } from '../../e2ee/sender';
import { MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { AuditLog } from '../../store/audit-log';
import { AccessRequests } from '../../store/access-requests';
import { EscrowStore } from '../../store/escrow-store';
import { startAccessRequestSweeper } from '../../workers/access-request-sweeper';
import { lawfulAccess } from '../../workflows';
import { accessStatusQuery, custodianApprovalSignal } from '../../workflows/lawful-access-definitions';
import { TEST_SECRETS, stack, testDataConverter, workerLog } from '../fixtures/stack';
import { dumpDatabase } from '../fixtures/dump-database';
import { freshNumber } from './e2ee-fixtures';

const TENANT = 'regulated-bank';
const token = () => deriveKey(TEST_SECRETS, 'key-directory-api');
const auditLog = () => new AuditLog(stack().db, TEST_SECRETS.auditHashKey);

async function tenantApp(escrow: EscrowMemberPublic | null): Promise<SwitchboardClient> {
  const { temporal, taskQueue, db } = stack();
  const store = new MemorySenderStateStore();
  return SwitchboardClient.connect({
    address: temporal.address,
    namespace: 'default',
    taskQueue,
    dataConverter: testDataConverter(),
    messageIdKey: deriveKey(TEST_SECRETS, 'message-id'),
    e2ee: new E2eeSender({
      directory: new PostgresKeyDirectory(db, deriveKey(TEST_SECRETS, 'key-directory')),
      store,
      identity: await loadOrCreateSenderIdentity(store),
      escrow,
    }),
  });
}

async function e2eeNumber(): Promise<string> {
  const to = freshNumber('+1555010');
  const phones = stack().carriers.phones;
  if (!phones) throw new Error('the test stack runs no sandbox phones');
  await phones.ensure(to);
  return to;
}

const auditEvents = async (requestId: string) =>
  (await auditLog().forMessage(`access-${requestId}`)).map((r) => [r.event, r.result, r.errorCode]);

const requestRow = async (requestId: string) =>
  (
    await stack().db.query<{ sealed_key: Buffer | null; outcome: string | null }>(
      'SELECT sealed_key, outcome FROM e2ee_access_requests WHERE request_id = $1',
      [requestId],
    )
  ).rows[0];

/** The sealed box of one opened message in a stored result. */
function resultBox(result: AccessResult, messageId: string): Uint8Array {
  const m = result.messages.find((x) => x.messageId === messageId);
  if (!m?.ok) throw new Error('the message was not opened');
  return new Uint8Array(Buffer.from(m.sealed, 'base64url'));
}

const handleOf = (requestId: string) =>
  stack().client.workflow.getHandle<typeof lawfulAccess>(accessWorkflowIdFor(requestId));

/** Polls until `ready(status)` holds (a test's own deadline bounds it). */
async function statusWhen(requestId: string, ready: (s: AccessStatus) => boolean): Promise<AccessStatus> {
  for (;;) {
    const status = await handleOf(requestId).query(accessStatusQuery);
    if (ready(status)) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A signal as anyone with Temporal access could send it, bypassing the client's checks. */
async function rawApproval(requestId: string, payload: unknown): Promise<void> {
  const before = await statusWhen(requestId, (s) => s.state === 'awaiting-approvals');
  const seen = before.approvedShares.length + before.rejectedApprovals;
  await handleOf(requestId).signal(custodianApprovalSignal, payload as never);
  await statusWhen(requestId, (s) => s.approvedShares.length + s.rejectedApprovals > seen);
}

async function sealedFor(requestId: string, share: EscrowShare): Promise<string> {
  const s = await statusWhen(requestId, (st) => st.state === 'awaiting-approvals');
  const box = await sealTo(
    s.requestPublicKey ?? '',
    Buffer.from(encodeEscrowShare(share)),
    shareSealContext(requestId, s.request?.digest ?? ''),
  );
  return Buffer.from(box).toString('base64url');
}

describe('lawful access to an escrowed tenant’s messages (k of n custodians)', function () {
  this.timeout(60_000);
  let record: EscrowRecord;
  let shares: EscrowShare[];
  let otherEscrowShare: EscrowShare;
  let app: SwitchboardClient;
  let access: LawfulAccessClient;
  /** Three messages to one recipient (one group), then one to another. */
  const sent: { messageId: string; text: string; to: string }[] = [];
  const ask = (messageIds: string[], approvalWindowMs = 30_000) =>
    access.request({
      tenant: TENANT,
      messageIds,
      requester: 'Officer Test, Unit 7',
      caseReference: 'W-1',
      approvalWindowMs,
    });

  before(async () => {
    const escrowStore = new EscrowStore(stack().db);
    const created = await createEscrow({ tenant: TENANT, threshold: 2, custodians: 3 });
    record = created.record;
    shares = created.shares;
    await escrowStore.activate(record);
    const other = await createEscrow({ tenant: 'other-bank', threshold: 2, custodians: 2 });
    await escrowStore.activate(other.record);
    otherEscrowShare = other.shares[0] as EscrowShare;
    // The app learns the escrow member from Switchboard, as connectFromEnv's apps do.
    const member = await fetchEscrowMember({
      baseUrl: stack().worker.receiptsUrl,
      bearerToken: token(),
      tenant: TENANT,
    });
    assert.equal(member?.escrowId, record.escrowId);
    app = await tenantApp(member);
    access = app.lawfulAccess();
    const first = await e2eeNumber();
    const second = await e2eeNumber();
    for (const to of [first, first, first, second]) {
      const text = `escrowed ${randomUUID()}`;
      const message = await app.send({ to, text, e2ee: 'preferred', tenant: TENANT });
      assert.equal(message.encrypted, true);
      const outcome = await app.waitForOutcome(message.messageId);
      assert.deepEqual([outcome.status, outcome.e2ee], ['delivered', true]);
      sent.push({ messageId: message.messageId, text, to });
    }
  });
  after(async () => {
    await app?.close();
  });

  it('serves the escrow member to the tenant’s apps, behind the directory’s bearer', async () => {
    const base = stack().worker.receiptsUrl;
    assert.equal(
      await fetchEscrowMember({ baseUrl: base, bearerToken: token(), tenant: 'not-escrowed' }),
      null,
    );
    await assert.rejects(
      fetchEscrowMember({ baseUrl: base, bearerToken: 'wrong-token-wrong-token', tenant: TENANT }),
      (err: Error) => err.name === 'EscrowMemberFetchError' && err.message.includes('401'),
    );
  });

  it('archived every encrypted message (ciphertext only) before sending; the phones read them', async () => {
    const { rows } = await stack().db.query<{ message_id: string; ciphertext: Buffer; group_id: string }>(
      'SELECT message_id, ciphertext, group_id FROM e2ee_escrow_messages WHERE escrow_id = $1 ORDER BY archived_at',
      [record.escrowId],
    );
    assert.deepEqual(
      rows.map((r) => r.message_id),
      sent.map((s) => s.messageId),
    );
    assert.equal(new Set(rows.map((r) => r.group_id)).size, 2, 'one group per recipient, reused');
    const welcomes = await stack().db.query('SELECT 1 FROM e2ee_escrow_welcomes WHERE escrow_id = $1', [
      record.escrowId,
    ]);
    assert.equal(welcomes.rowCount, 2, 'a Welcome with each group’s first message only');
    for (const r of rows) for (const s of sent) assert.ok(!r.ciphertext.includes(Buffer.from(s.text)));
    const inbox = stack().carriers.phones?.inbox(sent[0]?.to ?? '') ?? [];
    assert.deepEqual(
      inbox.map((m) => [m.welcome, (JSON.parse(m.plaintext?.toString() ?? '{}') as { text?: string }).text]),
      sent.slice(0, 3).map((s, i) => [i === 0, s.text]),
    );
  });

  it('refuses with k−1 valid approvals: repeats, forgeries, spoofed indexes, other escrows and junk do not count', async () => {
    const [m1] = sent;
    const [one, two] = shares;
    assert.ok(m1 && one && two);
    const filed = await ask([m1.messageId], 8_000);
    const { requestId } = filed;
    assert.equal((await access.approve(requestId, 'custodian-one', one)).accepted, true);
    assert.equal((await access.approve(requestId, 'custodian-one-again', one)).accepted, false);
    const forged: EscrowShare = {
      escrowId: record.escrowId,
      index: 3,
      share: new Uint8Array(randomBytes(33)),
    };
    assert.equal((await access.approve(requestId, 'impostor', forged)).accepted, false);
    // Share 1 handed in as share 2; another escrow's share; a payload that is not an approval.
    await rawApproval(requestId, {
      custodian: 'spoofer',
      shareIndex: 2,
      sealedShare: await sealedFor(requestId, one),
    });
    await rawApproval(requestId, {
      custodian: 'neighbour',
      shareIndex: 1,
      sealedShare: await sealedFor(requestId, otherEscrowShare),
    });
    await rawApproval(requestId, { custodian: 123, sealedShare: 5 });
    // A share sealed for another request does not open for this one.
    const elsewhere = await ask([m1.messageId]);
    const misdirected = await sealedFor(elsewhere.requestId, two);
    await rawApproval(requestId, { custodian: 'misdirected', shareIndex: 2, sealedShare: misdirected });
    await handleOf(elsewhere.requestId).cancel();

    const result = await access.result(requestId, filed.requesterKey);
    assert.deepEqual(
      [result.outcome, result.reason, result.approvedShares, result.messages],
      ['refused', 'deadline_passed', [1], []],
    );
    assert.deepEqual(await auditEvents(requestId), [
      ['access_requested', null, null],
      ['custodian_approval', 'accepted', null],
      ['custodian_approval', 'rejected', 'DUPLICATE_SHARE'],
      ['custodian_approval', 'rejected', 'INVALID_SHARE'],
      ['custodian_approval', 'rejected', 'INVALID_SHARE'],
      ['custodian_approval', 'rejected', 'INVALID_SHARE'],
      ['custodian_approval', 'rejected', 'INVALID_SHARE'],
      ['custodian_approval', 'rejected', 'INVALID_SHARE'],
      ['access_refused', 'refused', 'deadline_passed'],
    ]);
    const row = await requestRow(requestId);
    assert.deepEqual([row?.outcome, row?.sealed_key], ['refused', null], 'the request key no longer exists');
    await assert.rejects(access.approve(requestId, 'late', one), /awaiting approvals/);
  });

  it('grants with k approvals: exactly the named messages, two of one group; a third approval is not needed', async () => {
    const [m1, m2, m3, m4] = sent;
    assert.ok(m1 && m2 && m3 && m4);
    const named = [m3, m2, m4];
    const filed = await ask(named.map((m) => m.messageId));
    const { requestId } = filed;
    // Custodians shown the request before they approve.
    const shown = await statusWhen(requestId, (s) => s.state === 'awaiting-approvals');
    assert.deepEqual(
      shown.request?.messageIds,
      named.map((m) => m.messageId),
    );
    assert.equal(shown.request?.caseReference, 'W-1');
    assert.match(shown.request?.digest ?? '', /^[0-9a-f]{64}$/);
    // All three at once: two are enough, the third is audited as not needed.
    const sealed = await Promise.all(shares.map((s) => sealedFor(requestId, s)));
    await Promise.all(
      shares.map((s, i) =>
        handleOf(requestId).signal(custodianApprovalSignal, {
          custodian: `custodian-${s.index}`,
          shareIndex: s.index,
          sealedShare: sealed[i] as string,
        }),
      ),
    );

    const result = await access.result(requestId, filed.requesterKey);
    assert.equal(result.outcome, 'granted');
    assert.equal(result.approvedShares.length, 2, 'k approvals counted, whichever came first');
    assert.deepEqual(
      result.messages.map((m) => [m.messageId, m.ok ? m.text : m.code]),
      named.map((m) => [m.messageId, m.text]),
    );
    assert.deepEqual(await auditEvents(requestId), [
      ['access_requested', null, null],
      ['custodian_approval', 'accepted', null],
      ['custodian_approval', 'accepted', null],
      ['custodian_approval', 'ignored', 'NOT_NEEDED'],
      ['escrow_key_rebuilt', 'ok', null],
      ['escrowed_message_opened', 'opened', null],
      ['escrowed_message_opened', 'opened', null],
      ['escrowed_message_opened', 'opened', null],
      ['access_granted', 'granted', null],
    ]);
    assert.equal((await requestRow(requestId))?.sealed_key, null);

    // The result sits in Temporal sealed to the requester: no text in the history, not even through
    // the codec, nor in any table or log line; and only the requester's key opens it.
    const raw = JSON.stringify(await handleOf(requestId).fetchHistory());
    const stored = await handleOf(requestId).result();
    const decoded = JSON.stringify(stored);
    const tables = await dumpDatabase();
    const logs = workerLog.join('');
    for (const { text } of sent) {
      for (const [where, haystack] of Object.entries({ raw, decoded, tables, logs })) {
        assert.ok(!haystack.includes(text), `plaintext in ${where}`);
      }
    }
    const box = resultBox(stored, m2.messageId);
    const context = resultSealContext(requestId, m2.messageId);
    assert.ok(await openSealed(filed.requesterKey, box, context));
    const stranger = await generateSealingKeyPair();
    await assert.rejects(openSealed(stranger.privateKey, box, context), SealedBoxError);
  });

  it('a request id is used once: a second run under it is refused, whatever it names', async () => {
    const [m1, m2] = sent;
    const [one, two] = shares;
    assert.ok(m1 && m2 && one && two);
    const filed = await ask([m1.messageId]);
    await access.approve(filed.requestId, 'one', one);
    await access.approve(filed.requestId, 'two', two);
    assert.equal((await access.result(filed.requestId, filed.requesterKey)).outcome, 'granted');
    const { publicKey: requesterPublicKey } = await generateSealingKeyPair();
    const rerun: LawfulAccessRequest = {
      requestId: filed.requestId,
      tenant: TENANT,
      messageIds: [m2.messageId],
      requester: 'Someone else',
      caseReference: 'W-2',
      requesterPublicKey,
      approvalWindowMs: 30_000,
    };
    const again = await stack().client.workflow.execute(lawfulAccess, {
      taskQueue: taskQueues(stack().env).lawfulAccess,
      workflowId: accessWorkflowIdFor(filed.requestId),
      args: [rerun],
    });
    assert.deepEqual([again.outcome, again.reason], ['refused', 'request_reused']);
    const events = await auditEvents(filed.requestId);
    assert.deepEqual(events.slice(-2), [
      ['access_requested', null, null],
      ['access_refused', 'refused', 'request_reused'],
    ]);
  });

  it('the worker refuses a malformed request itself, naming the field, and one naming no archived message', async () => {
    const start = (request: Partial<LawfulAccessRequest>) =>
      stack().client.workflow.execute(lawfulAccess, {
        taskQueue: taskQueues(stack().env).lawfulAccess,
        workflowId: accessWorkflowIdFor(request.requestId ?? randomUUID()),
        args: [request as LawfulAccessRequest],
      });
    const { publicKey } = await generateSealingKeyPair();
    const base = {
      requestId: randomUUID(),
      tenant: TENANT,
      messageIds: [sent[0]?.messageId ?? ''],
      requester: 'r',
      caseReference: 'c',
      requesterPublicKey: publicKey,
      approvalWindowMs: 30_000,
    };
    const badKey = await start({ ...base, requesterPublicKey: 'not-a-key' });
    assert.deepEqual([badKey.outcome, badKey.reason], ['refused', 'invalid_request']);
    const rows = await auditLog().forMessage(`access-${base.requestId}`);
    assert.deepEqual(
      rows.map((r) => [r.event, r.errorCode, r.detail.invalidField ?? null]),
      [
        ['access_requested', null, 'requesterPublicKey'],
        ['access_refused', 'invalid_request', null],
      ],
    );
    // Another tenant naming this tenant's messages finds nothing archived.
    const foreign = await start({ ...base, requestId: randomUUID(), tenant: 'other-bank' });
    assert.deepEqual([foreign.outcome, foreign.reason], ['refused', 'not_archived']);
    const unknown = await start({ ...base, requestId: randomUUID(), messageIds: [randomUUID()] });
    assert.deepEqual([unknown.outcome, unknown.reason], ['refused', 'not_archived']);
  });

  it('cancelling a request closes it and erases its key', async () => {
    const filed = await ask([sent[0]?.messageId ?? '']);
    await statusWhen(filed.requestId, (s) => s.state === 'awaiting-approvals');
    assert.ok((await requestRow(filed.requestId))?.sealed_key, 'open: the key exists');
    await handleOf(filed.requestId).cancel();
    await assert.rejects(handleOf(filed.requestId).result());
    const row = await requestRow(filed.requestId);
    assert.deepEqual([row?.outcome, row?.sealed_key], ['refused', null]);
    assert.deepEqual((await auditEvents(filed.requestId)).at(-1), ['access_refused', 'refused', 'cancelled']);
  });

  it('a terminated request’s key stops working at its expiry and the sweeper erases it, audited', async () => {
    const filed = await ask([sent[0]?.messageId ?? '']);
    await statusWhen(filed.requestId, (s) => s.state === 'awaiting-approvals');
    await handleOf(filed.requestId).terminate('test: the workflow is gone');
    assert.ok((await requestRow(filed.requestId))?.sealed_key, 'terminated: nothing closed it');
    await stack().db.query(
      `UPDATE e2ee_access_requests SET expires_at = now() - interval '1 second' WHERE request_id = $1`,
      [filed.requestId],
    );
    const requests = new AccessRequests(stack().db, randomBytes(32));
    await assert.rejects(requests.privateKey(filed.requestId), { name: 'AccessRequestClosedError' });
    const sweeper = startAccessRequestSweeper({
      requests,
      audit: auditLog(),
      logger: pino({ level: 'silent' }),
      everyMs: 60_000,
    });
    try {
      await statusWhenRow(filed.requestId);
    } finally {
      sweeper.stop();
    }
    assert.deepEqual((await auditEvents(filed.requestId)).at(-1), ['access_refused', 'refused', 'expired']);
  });

  it('never sends an escrowed tenant’s message the escrow could not read: an app without the member is refused', async () => {
    const rogue = await tenantApp(null);
    try {
      const to = await e2eeNumber();
      const message = await rogue.send({
        to,
        text: `unescrowed ${randomUUID()}`,
        e2ee: 'required',
        tenant: TENANT,
      });
      assert.equal(message.encrypted, true);
      const outcome = await rogue.waitForOutcome(message.messageId);
      assert.equal(outcome.e2ee, false, 'not delivered encrypted');
      assert.deepEqual(outcome.attempts[0], {
        ...outcome.attempts[0],
        channel: 'rcs',
        result: 'failed',
        errorCode: 'ESCROW_MEMBER_MISSING',
      });
      const archived = await stack().db.query('SELECT 1 FROM e2ee_escrow_messages WHERE message_id = $1', [
        message.messageId,
      ]);
      assert.equal(archived.rowCount, 0);
      assert.equal(stack().carriers.phones?.inbox(to).length, 0, 'no encrypted message reached the phone');
    } finally {
      await rogue.close();
    }
  });
});

/** Waits until the request's row is closed with its key erased, and its closing is audited. */
async function statusWhenRow(requestId: string): Promise<void> {
  for (;;) {
    const row = await requestRow(requestId);
    const last = (await auditEvents(requestId)).at(-1);
    if (row?.outcome === 'refused' && row.sealed_key === null && last?.[0] === 'access_refused') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
