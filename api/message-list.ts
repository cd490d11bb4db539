// GET /v1/messages: a tenant's messages from Temporal visibility, filtered by the
// SwitchboardTenant search attribute the starter sets (never by a number: none is indexed).
import { createHmac, timingSafeEqual } from 'node:crypto';
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

/**
 * A cursor is Temporal's page token with an HMAC over it, the tenant and the query: a forged or
 * altered cursor, or one from another query, is refused here and never reaches the server.
 */
function mac(key: string, visibilityQuery: string, token: Uint8Array): Buffer {
  return createHmac('sha256', key)
    .update(visibilityQuery)
    .update('\0')
    .update(token)
    .digest()
    .subarray(0, 16);
}

function cursorFor(
  key: string,
  visibilityQuery: string,
  token: Uint8Array | null | undefined,
): string | null {
  if (!token || token.length === 0) return null;
  return `${Buffer.from(token).toString('base64url')}.${mac(key, visibilityQuery, token).toString('base64url')}`;
}

function tokenOf(key: string, visibilityQuery: string, cursor: string): Buffer {
  const [token, tag] = cursor.split('.').map((part) => Buffer.from(part, 'base64url'));
  const expected = token && token.length ? mac(key, visibilityQuery, token) : null;
  if (!expected || !tag || tag.length !== expected.length || !timingSafeEqual(tag, expected))
    throw new ValidationError('cursor', 'nextCursor of an earlier page of the same query');
  return token!;
}

export interface ListDeps {
  client: Client;
  namespace: string;
  /** `deriveKey(secrets, 'api-cursor')`. */
  cursorKey: string;
}

export async function listMessages(deps: ListDeps, tenant: string, query: ListQuery) {
  const visibilityQuery = listQueryFor(tenant, query);
  const page = await deps.client.workflowService.listWorkflowExecutions({
    namespace: deps.namespace,
    query: visibilityQuery,
    pageSize: query.limit ?? 50,
    nextPageToken: query.cursor ? tokenOf(deps.cursorKey, visibilityQuery, query.cursor) : undefined,
  });
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
  return { messages, nextCursor: cursorFor(deps.cursorKey, visibilityQuery, page.nextPageToken) };
}
