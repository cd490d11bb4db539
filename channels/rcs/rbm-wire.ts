// RBM v1 JSON shapes, shared by the client and the sandbox hub so the two cannot drift apart.

import type { RcsContent } from './types';

export interface RbmContentInfo {
  fileUrl: string;
  forceRefresh?: boolean;
}

/**
 * Our extension to RBM (docs/rcs-hub-api.md): client-managed MLS ciphertext instead of text.
 * Bytes are base64; the Welcome rides on a group's first message only.
 */
export interface RbmE2eeMessage {
  protocol: 'mls10';
  cipherSuite: 1;
  ciphertext: string;
  welcome?: string;
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
 */
export function toAgentMessage(content: RcsContent, ttlSeconds?: number): RbmAgentMessage {
  let contentMessage: RbmContentMessage;
  if (content.e2ee) {
    contentMessage = {
      e2eeMessage: {
        protocol: 'mls10',
        cipherSuite: 1,
        ciphertext: content.e2ee.ciphertext.toString('base64'),
        ...(content.e2ee.welcome ? { welcome: content.e2ee.welcome.toString('base64') } : {}),
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
