// RBM v1 JSON shapes, shared by the client and the sandbox hub so the two cannot drift apart.

import { RcsPermanentError } from './errors';
import type { RcsContent } from './types';

export interface RbmContentInfo {
  fileUrl: string;
  forceRefresh?: boolean;
}

/** MLS 1.0 (RFC 9420) and cipher suite 1, MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519. */
export const RBM_E2EE_PROTOCOL = 'mls10';
export const RBM_E2EE_CIPHER_SUITE = 1;

/**
 * Our extension to RBM (docs/rcs-hub-api.md): client-managed MLS ciphertext instead of text, a
 * member of the `contentMessage` oneof exclusive with text/contentInfo/richCard. Bytes are
 * standard base64 (with padding); the Welcome rides on a group's first message only.
 */
export interface RbmE2eeMessage {
  protocol: typeof RBM_E2EE_PROTOCOL;
  cipherSuite: typeof RBM_E2EE_CIPHER_SUITE;
  /** MLSMessage-encoded PrivateMessage. */
  ciphertext: string;
  /** MLSMessage-encoded Welcome, on a group's first message only. */
  welcome?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes of a received `e2eeMessage`, or null when it is not a valid one (another protocol or
 * suite, a missing or empty ciphertext, a welcome that is not a non-empty string, bad base64).
 */
export function decodeE2eeMessage(value: unknown): { ciphertext: Buffer; welcome?: Buffer } | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const m = value as Record<string, unknown>;
  if (m.protocol !== RBM_E2EE_PROTOCOL || m.cipherSuite !== RBM_E2EE_CIPHER_SUITE) return null;
  if (typeof m.ciphertext !== 'string' || m.ciphertext === '' || !BASE64.test(m.ciphertext)) return null;
  if (
    m.welcome !== undefined &&
    (typeof m.welcome !== 'string' || m.welcome === '' || !BASE64.test(m.welcome))
  )
    return null;
  return {
    ciphertext: Buffer.from(m.ciphertext, 'base64'),
    ...(typeof m.welcome === 'string' ? { welcome: Buffer.from(m.welcome, 'base64') } : {}),
  };
}

/** RBM's AgentContentMessage is a oneof; these are the members Switchboard produces. */
export type RbmContentMessage =
  | { text: string }
  | { e2eeMessage: RbmE2eeMessage }
  | { contentInfo: RbmContentInfo }
  | {
      richCard: {
        standaloneCard: {
          cardOrientation: 'VERTICAL';
          cardContent: { description: string; media: { height: 'MEDIUM'; contentInfo: RbmContentInfo } };
        };
      };
    };

export interface RbmAgentMessage {
  contentMessage: RbmContentMessage;
  /** Duration in RBM's protobuf JSON form, e.g. "30s". */
  ttl?: string;
}

export interface RbmBatchGetRequest {
  users: string[];
  agentId: string;
}

export interface RbmBatchGetResponse {
  reachableUsers: string[];
  totalRandomSampleUserCount: number;
  reachableRandomSampleUserCount: number;
}

/** Google's error envelope; only `status` is meant for machines. */
export interface RbmErrorBody {
  error: { code: number; message: string; status: string };
}

/**
 * Text and a file cannot share one RBM content message, and two messages would need two ids
 * and two receipts. A standalone rich card carries both under the caller's single messageId.
 *
 * With `e2ee`, only the MLS bytes go out: `text` is never sent (whatever it holds), and a
 * `fileUrl` is refused, since it would leave in the clear beside the ciphertext.
 */
export function toAgentMessage(content: RcsContent, ttlSeconds?: number): RbmAgentMessage {
  let contentMessage: RbmContentMessage;
  if (content.e2ee) {
    if (content.fileUrl !== undefined) throw new RcsPermanentError('e2ee-with-file');
    if (content.e2ee.ciphertext.length === 0) throw new RcsPermanentError('e2ee-empty-ciphertext');
    const welcome = content.e2ee.welcome;
    contentMessage = {
      e2eeMessage: {
        protocol: RBM_E2EE_PROTOCOL,
        cipherSuite: RBM_E2EE_CIPHER_SUITE,
        ciphertext: content.e2ee.ciphertext.toString('base64'),
        ...(welcome && welcome.length > 0 ? { welcome: welcome.toString('base64') } : {}),
      },
    };
  } else if (content.fileUrl === undefined) {
    contentMessage = { text: content.text };
  } else if (content.text === '') {
    contentMessage = { contentInfo: { fileUrl: content.fileUrl } };
  } else {
    contentMessage = {
      richCard: {
        standaloneCard: {
          cardOrientation: 'VERTICAL',
          cardContent: {
            description: content.text,
            media: { height: 'MEDIUM', contentInfo: { fileUrl: content.fileUrl } },
          },
        },
      },
    };
  }
  return ttlSeconds === undefined ? { contentMessage } : { contentMessage, ttl: `${ttlSeconds}s` };
}

/** The ttl as seconds, or null when absent or not RBM's "<seconds>s" form. */
export function parseTtlSeconds(ttl: unknown): number | null {
  if (typeof ttl !== 'string') return null;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(ttl);
  return match ? Number(match[1]) : null;
}

export function agentMessagePath(msisdn: string): string {
  return `/v1/phones/${encodeURIComponent(msisdn)}/agentMessages`;
}

export function capabilitiesPath(msisdn: string): string {
  return `/v1/phones/${encodeURIComponent(msisdn)}/capabilities`;
}

export const BATCH_GET_PATH = '/v1/users:batchGet';
