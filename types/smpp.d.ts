// Ambient types for `smpp` 0.5.1, which ships none. Only what channels/sms and sandbox/smsc use.
// PDU fields are decoded by the library's filters, so their runtime shapes vary (see
// channels/sms/delivery-receipt.ts): keep them `unknown` where the library is inconsistent.

declare module 'smpp' {
  import { EventEmitter } from 'events';
  import type { Server as NetServer, Socket } from 'net';

  export type PduParams = Record<string, unknown>;
  export type PduCallback = (pdu: PDU) => void;

  export class PDU {
    constructor(command: string, options?: PduParams);
    /** Reads a command_length off the stream: false until 4 bytes are there; throws above maxLength. */
    static commandLength(stream: NodeJS.ReadableStream): number | false;
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    system_id?: string;
    password?: string;
    message_id?: string;
    source_addr?: string;
    source_addr_ton?: number;
    destination_addr?: string;
    dest_addr_ton?: number;
    esm_class?: number;
    data_coding?: number | null;
    registered_delivery?: number;
    /** Decoded to `{ message, udh? }` on receipt; Buffer or `{ udh, message }` on send. */
    short_message?: unknown;
    message_payload?: unknown;
    receipted_message_id?: unknown;
    message_state?: number;
    network_error_code?: unknown;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: PduParams): PDU;
    toBuffer(): Buffer;
  }

  export class Session extends EventEmitter {
    socket: Socket;
    server?: Server;
    /** Returns false (and never calls back) when the socket is not writable. */
    send(pdu: PDU, responseCallback?: PduCallback, sendCallback?: PduCallback): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export interface ConnectOptions {
    host: string;
    port: number;
    tls?: boolean;
    url?: string;
  }

  export interface TlvDefinition {
    id: number;
    type: unknown;
    multiple?: boolean;
  }

  export function connect(options: ConnectOptions, listener?: () => void): Session;
  export function createServer(
    options?: Record<string, unknown>,
    listener?: (session: Session) => void,
  ): Server;
  export function addTLV(tag: string, options: TlvDefinition): void;

  export const types: {
    tlv: { buffer: unknown; cstring: unknown; int8: unknown; int16: unknown; string: unknown };
  };
  export const tlvs: Record<string, TlvDefinition & { tag: string }>;
  export const errors: Record<string, number>;
}
