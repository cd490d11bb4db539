// GET /v1/messages: a tenant's messages from Temporal visibility, filtered by the
// SwitchboardTenant search attribute the starter sets (never by a number: none is indexed).
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { ValidationError } from '../domain/delivery-request';
import { TENANT_PATTERN } from '../domain/media';
import {
  DeliveryChannelKey,
  DeliveryStateKey,
  FallbackReasonKey,
  MessageFlowKey,
} from '../workflows/definitions';
import { messageLink } from './message-starter';
import type { LIST_STATUSES } from './schemas';

export interface ListQuery {
  status?: (typeof LIST_STATUSES)[number];
  since?: string;
  cursor?: string;
  limit?: number;
}

const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
const STATUS_FILTER = {
  pending: 'ExecutionStatus = "Running"',
  delivered: 'DeliveryState = "delivered"',
  failed: 'DeliveryState = "failed"',
} as const;

/** The visibility query; every value in it was validated (tenant pattern, parsed time). */
export function listQueryFor(tenant: string, query: ListQuery): string {
  if (!TENANT_PATTERN.test(tenant))
    throw new ValidationError('tenant', 'lowercase letters, digits and dashes');
  const parts = ['WorkflowType = "deliverMessage"', `SwitchboardTenant = "${tenant}"`];
  if (query.status) parts.push(STATUS_FILTER[query.status]);
  if (query.since) parts.push(`StartTime >= "${new Date(query.since).toISOString()}"`);
  return parts.join(' AND ');
}

export async function listMessages(client: Client, namespace: string, tenant: string, query: ListQuery) {
  let nextPageToken: Uint8Array | undefined;
  if (query.cursor) {
    nextPageToken = Buffer.from(query.cursor, 'base64url');
    if (nextPageToken.length === 0) throw new ValidationError('cursor', 'nextCursor of an earlier page');
  }
  let page;
  try {
    page = await client.workflowService.listWorkflowExecutions({
      namespace,
      query: listQueryFor(tenant, query),
      pageSize: query.limit ?? 50,
      nextPageToken,
    });
  } catch (err) {
    // gRPC INVALID_ARGUMENT: the only caller-made part the server can refuse is the page token.
    if ((err as { code?: unknown }).code === 3 && nextPageToken)
      throw new ValidationError('cursor', 'nextCursor of an earlier page');
    throw err;
  }
  const messages = (page.executions ?? []).map((e) => {
    const attrs = decodeTypedSearchAttributes(e.searchAttributes?.indexedFields);
    const messageId = (e.execution?.workflowId ?? '').replace(/^deliver-/, '');
    const state = attrs.get(DeliveryStateKey) ?? null;
    const status: (typeof LIST_STATUSES)[number] =
      e.status === RUNNING ? 'pending' : state === 'delivered' ? 'delivered' : 'failed';
    const seconds = e.startTime?.seconds;
    return {
      messageId,
      status,
      step: state,
      channel: attrs.get(DeliveryChannelKey) ?? null,
      fallbackReason: attrs.get(FallbackReasonKey) ?? null,
      flow: attrs.get(MessageFlowKey) ?? null,
      startedAt: seconds != null ? new Date(Number(seconds) * 1000).toISOString() : null,
      links: { self: messageLink(messageId) },
    };
  });
  const token = page.nextPageToken;
  return { messages, nextCursor: token && token.length ? Buffer.from(token).toString('base64url') : null };
}
