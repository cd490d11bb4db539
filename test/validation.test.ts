import assert from 'node:assert/strict';
import { ValidationError, validateSend, MAX_TEXT_CHARS } from '../client/validation';
import { stack } from './fixtures/stack';

describe('bad input is refused before any workflow starts', () => {
  const cases: Array<[string, Parameters<typeof validateSend>[0], string]> = [
    ['not E.164', { to: '5550100001', text: 'hi' }, 'to'],
    ['letters in the number', { to: '+1555CALLME', text: 'hi' }, 'to'],
    ['too short', { to: '+1555', text: 'hi' }, 'to'],
    ['no region serves it', { to: '+81312345678', text: 'hi' }, 'to'],
    ['empty text', { to: '+15550100001', text: '' }, 'text'],
    ['blank text', { to: '+15550100001', text: '   ' }, 'text'],
    ['oversized text', { to: '+15550100001', text: 'x'.repeat(MAX_TEXT_CHARS + 1) }, 'text'],
    ['unknown flow', { to: '+15550100001', text: 'hi', flow: 'broadcast' }, 'flow'],
    ['unknown e2ee policy', { to: '+15550100001', text: 'hi', e2ee: 'maybe' }, 'e2ee'],
    ['empty idempotency key', { to: '+15550100001', text: 'hi', idempotencyKey: '' }, 'idempotencyKey'],
  ];
  for (const [name, input, field] of cases) {
    it(`${name} → names "${field}"`, () => {
      assert.throws(
        () => validateSend(input),
        (err: unknown) =>
          err instanceof ValidationError && err.field === field && err.message.startsWith(`${field}:`),
      );
    });
  }

  it('never echoes the number in the error', () => {
    assert.throws(
      () => validateSend({ to: '+81312345678', text: 'hi' }),
      (err: Error) => !err.message.includes('312345678'),
    );
  });

  it('accepts the number plan and keeps the text as given', () => {
    const valid = validateSend({ to: ' +447700900123 ', text: 'ça va? 👋' });
    assert.equal(valid.to, '+447700900123');
    assert.equal(valid.region, 'eu');
    assert.equal(valid.text, 'ça va? 👋');
    assert.equal(valid.flow, 'standard');
    assert.equal(valid.e2ee, 'preferred');
  });

  it('the client throws before starting a workflow', async () => {
    const { switchboard, client, taskQueue } = stack();
    const count = async () => (await client.workflow.count(`TaskQueue = "${taskQueue}"`)).count;
    const before = await count();
    await assert.rejects(switchboard.send({ to: 'nope', text: 'hi' }), ValidationError);
    await assert.rejects(switchboard.send({ to: '+15550100001', text: '' }), ValidationError);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await count(), before);
  });
});
