// Recordings of the lawfulAccess workflow (granted, refused) for the replay test: an escrowed
// tenant, one encrypted message to a sandbox phone, then two requests on a fresh test stack.
import { randomBytes } from 'node:crypto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Client } from '@temporalio/client';
import { SwitchboardClient } from '../../client/switchboard-client';
import { deriveKey } from '../../config/secrets';
import { accessWorkflowIdFor } from '../../domain/lawful-access';
import { createEscrow, escrowMemberOf } from '../../e2ee/escrow';
import { PostgresKeyDirectory } from '../../e2ee/key-directory';
import { E2eeSender, loadOrCreateSenderIdentity } from '../../e2ee/sender';
import { MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { EscrowStore } from '../../store/escrow-store';
import { TEST_SECRETS, testDataConverter } from '../fixtures/stack';
import type { TestStack } from '../fixtures/stack';

/** Records into `save(name, workflowId, historyJson)`. */
export async function recordLawfulAccess(
  stack: TestStack,
  client: Client,
  save: (name: string, workflowId: string, json: string) => void,
): Promise<void> {
  const { record, shares } = await createEscrow({ tenant: 'recorded-bank', threshold: 2, custodians: 3 });
  await new EscrowStore(stack.db).activate(record);
  const store = new MemorySenderStateStore();
  const app = await SwitchboardClient.connect({
    address: stack.temporal.address,
    namespace: 'default',
    taskQueue: stack.taskQueue,
    dataConverter: testDataConverter(),
    messageIdKey: deriveKey(TEST_SECRETS, 'message-id'),
    e2ee: new E2eeSender({
      directory: new PostgresKeyDirectory(stack.db, deriveKey(TEST_SECRETS, 'key-directory')),
      store,
      identity: await loadOrCreateSenderIdentity(store),
      escrow: escrowMemberOf(record),
    }),
  });
  try {
    const to = '+15550109901';
    await stack.carriers.phones?.ensure(to);
    const sent = await app.send({
      to,
      text: 'recorded escrowed message',
      e2ee: 'required',
      tenant: 'recorded-bank',
    });
    await app.waitForOutcome(sent.messageId);
    const access = app.lawfulAccess();
    const request = (approvalWindowMs: number) =>
      access.request({
        tenant: 'recorded-bank',
        messageIds: [sent.messageId],
        requester: 'Recorder',
        caseReference: 'REC-1',
        approvalWindowMs,
      });
    const [one, two] = shares;
    if (!one || !two) throw new Error('createEscrow gave fewer shares than asked');

    const refused = await request(3_000);
    await access.approve(refused.requestId, 'one', one);
    await access.approve(refused.requestId, 'forger', { ...two, share: new Uint8Array(randomBytes(33)) });
    await access.result(refused.requestId, refused.requesterKey);
    const granted = await request(30_000);
    await access.approve(granted.requestId, 'one', one);
    await access.approve(granted.requestId, 'two', two);
    await access.result(granted.requestId, granted.requesterKey);

    for (const [name, filed] of [
      ['lawful-access-refused', refused],
      ['lawful-access-granted', granted],
    ] as const) {
      const workflowId = accessWorkflowIdFor(filed.requestId);
      save(name, workflowId, historyToJSON(await client.workflow.getHandle(workflowId).fetchHistory()));
    }
  } finally {
    await app.close();
  }
}
