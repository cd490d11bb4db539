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

// A command_length below the 16-byte header is a broken stream, but the library takes 1..4 as "wait
// for more bytes" and stops reading without a sound, and 0 as a PDU to skip. Make it a parse
// error like the others, so SmppLink sees 'error' and drops the session.
const PDU_HEADER_OCTETS = 16;
const readCommandLength = smpp.PDU.commandLength.bind(smpp.PDU);
smpp.PDU.commandLength = (stream) => {
  const length = readCommandLength(stream);
  if (length !== false && length < PDU_HEADER_OCTETS) {
    throw new Error(`PDU command_length ${length} is shorter than its header (${PDU_HEADER_OCTETS})`);
  }
  return length;
};

export { smpp };
export type { PDU, Session, Server } from 'smpp';
