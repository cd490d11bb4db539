// The one place that loads `smpp`. The library reads string TLVs up to the next NUL and ignores
// the TLV length, so an SMSC that omits the NUL hands us the next TLV's bytes as part of the id.
// Re-registering receipted_message_id (0x001E) as a raw buffer makes the library cut it by length;
// delivery-receipt.ts strips the NULs. This changes the library's table for the whole process,
// which is what we want: the sandbox SMSC then also writes the id exactly as given.
import * as smpp from 'smpp';

const RECEIPTED_MESSAGE_ID = 0x001e;

if (smpp.tlvs.receipted_message_id?.type !== smpp.types.tlv.buffer) {
  smpp.addTLV('receipted_message_id', { id: RECEIPTED_MESSAGE_ID, type: smpp.types.tlv.buffer });
}

export { smpp };
export type { PDU, Session, Server } from 'smpp';
