import type { MessageStatus } from './switchboard-client';
import type { DeliveryOutcome } from '../domain/message';

/** The CLI contract's JSON object (DESIGN.md): the outcome without internal fields. */
export function outcomeJson(outcome: DeliveryOutcome | MessageStatus): Record<string, unknown> {
  return {
    messageId: outcome.messageId,
    workflowId: outcome.workflowId,
    status: outcome.status,
    channel: outcome.channel,
    e2ee: outcome.e2ee,
    attempts: outcome.attempts,
    fallbackReason: outcome.fallbackReason,
    shortlink: outcome.shortlink,
    timings: outcome.timings,
    flow: outcome.flow,
    configVersion: outcome.configVersion,
    authoritative: outcome.authoritative,
    pilot: outcome.pilot,
  };
}

export function outcomeText(outcome: DeliveryOutcome | MessageStatus): string {
  const lines = [
    `message   ${outcome.messageId}`,
    `status    ${outcome.status}${'step' in outcome && outcome.status === 'pending' ? ` (${outcome.step})` : ''}`,
    `channel   ${outcome.channel ?? '-'}${outcome.e2ee ? ' (end-to-end encrypted)' : ''}`,
  ];
  if (outcome.fallbackReason) lines.push(`fallback  ${outcome.fallbackReason}`);
  if (outcome.pilot) {
    const p = outcome.pilot;
    lines.push(
      `pilot     winner ${p.winner ?? '-'}; rcs ${p.rcsLatencyMs ?? '-'} ms, sms ${p.smsLatencyMs ?? '-'} ms; other copy ${p.loser ?? '-'}`,
    );
  }
  for (const a of outcome.attempts) {
    lines.push(
      `attempt   ${a.at}  ${a.channel.padEnd(3)}  ${a.result}${a.errorCode ? `  ${a.errorCode}` : ''}`,
    );
  }
  if (outcome.status !== 'pending') lines.push(`took      ${outcome.timings.totalMs} ms`);
  return lines.join('\n');
}
