// The sandbox hub's memory of accepted agent messages. A message is delivered, revoked or
// expired exactly once: every transition checks the state it leaves, so a late timer, a
// revoke racing a delivery or a duplicate send can never produce a second receipt.

import { randomUUID } from 'node:crypto';
import type { RcsEvent, RcsEventType } from '../channels/rcs/types';

export type HubMessageState = 'pending' | 'delivered' | 'revoked' | 'expired';

/** Hands an encrypted message to the recipient's devices (sandbox/phones.ts). */
export type E2eeReceiver = (
  msisdn: string,
  message: { ciphertext: Buffer; welcome?: Buffer; messageId: string },
) => Promise<{ ok: true } | { ok: false; code: string }>;

interface HubMessage {
  msisdn: string;
  messageId: string;
  /** The MLS bytes, held only until the phone has them (or the message ends otherwise). */
  e2ee?: { ciphertext: Buffer; welcome?: Buffer };
  /**
   * The phone is decrypting it: it has left the hub, so it can no longer be revoked or expire,
   * though the state stays 'pending' until the phone answers.
   */
  handedOver?: boolean;
  state: HubMessageState;
  deliveryTimer?: NodeJS.Timeout;
  ttlTimer?: NodeJS.Timeout;
}

export interface MessageBookOptions {
  agentId: string;
  deliveryDelayMs: () => number;
  isOffline: (msisdn: string) => boolean;
  emit: (event: RcsEvent) => void;
  /** Without it, encrypted messages are delivered unread (no phones in this sandbox). */
  e2eeReceiver?: E2eeReceiver;
  /** A receiver that threw (not an E2EE failure, which it answers): reported as PHONE_ERROR. */
  onReceiverError?: (err: unknown) => void;
}

export interface MessageStats {
  deliveries: number;
  revocations: number;
  ttlExpirations: number;
  /** E2EE messages the phone could not decrypt (E2EE_DECRYPT_FAILED events). */
  e2eeDecryptFailures: number;
}

export class MessageBook {
  readonly stats: MessageStats = { deliveries: 0, revocations: 0, ttlExpirations: 0, e2eeDecryptFailures: 0 };
  private readonly messages = new Map<string, HubMessage>();

  constructor(private readonly options: MessageBookOptions) {}

  has(msisdn: string, messageId: string): boolean {
    return this.messages.has(key(msisdn, messageId));
  }

  state(msisdn: string, messageId: string): HubMessageState | undefined {
    return this.messages.get(key(msisdn, messageId))?.state;
  }

  accept(
    msisdn: string,
    messageId: string,
    ttlSeconds: number | null,
    e2ee?: { ciphertext: Buffer; welcome?: Buffer },
  ): void {
    const message: HubMessage = { msisdn, messageId, state: 'pending', ...(e2ee ? { e2ee } : {}) };
    this.messages.set(key(msisdn, messageId), message);
    if (ttlSeconds !== null) {
      message.ttlTimer = setTimeout(() => this.expire(message), ttlSeconds * 1000);
      message.ttlTimer.unref();
    }
    this.schedule(message);
  }

  /** True when the message was still pending: it is now revoked and will never be delivered. */
  revoke(msisdn: string, messageId: string): boolean {
    const message = this.messages.get(key(msisdn, messageId));
    if (message?.state !== 'pending' || message.handedOver) return false;
    this.settle(message, 'revoked');
    this.stats.revocations++;
    return true;
  }

  /** A phone came back online: what it missed while offline is delivered now, as RBM would. */
  resume(msisdns: Iterable<string>): void {
    const online = new Set(msisdns);
    for (const message of this.messages.values()) {
      if (
        message.state === 'pending' &&
        !message.handedOver &&
        !message.deliveryTimer &&
        online.has(message.msisdn)
      ) {
        this.schedule(message);
      }
    }
  }

  clearTimers(): void {
    for (const message of this.messages.values()) {
      clearTimeout(message.deliveryTimer);
      clearTimeout(message.ttlTimer);
    }
  }

  private schedule(message: HubMessage): void {
    // An offline phone keeps the message pending with no timer; resume() picks it up.
    if (this.options.isOffline(message.msisdn)) return;
    message.deliveryTimer = setTimeout(() => this.deliver(message), this.options.deliveryDelayMs());
    message.deliveryTimer.unref();
  }

  private deliver(message: HubMessage): void {
    message.deliveryTimer = undefined;
    if (message.state !== 'pending' || message.handedOver || this.options.isOffline(message.msisdn)) return;
    const receiver = this.options.e2eeReceiver;
    if (message.e2ee && receiver) {
      // The phone decrypts; only then is it delivered, or reported as a decrypt failure.
      const e2ee = message.e2ee;
      delete message.e2ee;
      message.handedOver = true;
      clearTimeout(message.ttlTimer);
      message.ttlTimer = undefined;
      let handed: Promise<{ ok: true } | { ok: false; code: string }>;
      try {
        handed = receiver(message.msisdn, { ...e2ee, messageId: message.messageId });
      } catch (err) {
        handed = Promise.reject(err instanceof Error ? err : new Error('receiver failed'));
      }
      handed.then(
        (result) => this.settleEncrypted(message, result.ok ? null : result.code),
        (err: unknown) => {
          this.options.onReceiverError?.(err);
          this.settleEncrypted(message, 'PHONE_ERROR');
        },
      );
      return;
    }
    delete message.e2ee;
    this.settle(message, 'delivered');
    this.stats.deliveries++;
    this.emit(message, 'DELIVERED');
  }

  /** The message reached the phone either way; `failure` is the phone's code when it could not read it. */
  private settleEncrypted(message: HubMessage, failure: string | null): void {
    if (message.state !== 'pending') return;
    this.settle(message, 'delivered');
    if (failure === null) {
      this.stats.deliveries++;
      this.emit(message, 'DELIVERED');
    } else {
      this.stats.e2eeDecryptFailures++;
      this.emit(message, 'E2EE_DECRYPT_FAILED', failure || 'UNKNOWN');
    }
  }

  private expire(message: HubMessage): void {
    if (message.state !== 'pending' || message.handedOver) return;
    this.settle(message, 'expired');
    this.stats.ttlExpirations++;
    this.emit(message, 'TTL_EXPIRATION_REVOKED');
  }

  private settle(message: HubMessage, state: HubMessageState): void {
    message.state = state;
    delete message.e2ee;
    clearTimeout(message.deliveryTimer);
    clearTimeout(message.ttlTimer);
    message.deliveryTimer = undefined;
    message.ttlTimer = undefined;
  }

  private emit(message: HubMessage, eventType: RcsEventType, errorCode?: string): void {
    this.options.emit({
      ...(errorCode ? { errorCode } : {}),
      agentId: this.options.agentId,
      senderPhoneNumber: message.msisdn,
      eventType,
      eventId: `sandbox-${randomUUID()}`,
      messageId: message.messageId,
      sendTime: new Date().toISOString(),
    });
  }
}

function key(msisdn: string, messageId: string): string {
  return `${msisdn}\u0000${messageId}`;
}
