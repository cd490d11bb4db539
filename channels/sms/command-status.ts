// How an SMSC's command_status maps onto our two error types. Transient means "the same PDU may
// succeed later"; everything we do not know is permanent, so an unknown code fails the SMS step
// instead of hammering the SMSC with retries.
import { SmsPermanentError, SmsTransientError } from './errors';

export interface StatusClass {
  code: string;
  transient: boolean;
  /** Retried inside the gateway after a backoff (flow control), before surfacing. */
  backoff?: 'throttle' | 'queue-full';
}

const TABLE: Readonly<Record<number, StatusClass>> = {
  0x0058: { code: 'ESME_RTHROTTLED', transient: true, backoff: 'throttle' },
  0x0014: { code: 'ESME_RMSGQFUL', transient: true, backoff: 'queue-full' },
  0x0008: { code: 'ESME_RSYSERR', transient: true },
  0x0045: { code: 'ESME_RSUBMITFAIL', transient: true },
  0x0064: { code: 'ESME_RX_T_APPN', transient: true },
  0x00fe: { code: 'ESME_RDELIVERYFAILURE', transient: true },
  0x0004: { code: 'ESME_RINVBNDSTS', transient: true }, // we raced an unbind: rebind and resend
  0x0001: { code: 'ESME_RINVMSGLEN', transient: false },
  0x000a: { code: 'ESME_RINVSRCADR', transient: false },
  0x000b: { code: 'ESME_RINVDSTADR', transient: false },
  // Bind failures: retrying the message cannot help until an operator fixes the account.
  0x000d: { code: 'ESME_RBINDFAIL', transient: false },
  0x000e: { code: 'ESME_RINVPASWD', transient: false },
  0x000f: { code: 'ESME_RINVSYSID', transient: false },
  0x0043: { code: 'ESME_RINVESMCLASS', transient: false },
  0x0048: { code: 'ESME_RINVSRCTON', transient: false },
  0x0049: { code: 'ESME_RINVSRCNPI', transient: false },
  0x0050: { code: 'ESME_RINVDSTTON', transient: false },
  0x0051: { code: 'ESME_RINVDSTNPI', transient: false },
  0x0066: { code: 'ESME_RX_R_APPN', transient: false },
  0x0065: { code: 'ESME_RX_P_APPN', transient: false },
  0x0101: { code: 'ESME_RPROHIBITED', transient: false },
  0x0104: { code: 'ESME_RINVDCS', transient: false },
};

export function classifyStatus(status: number): StatusClass {
  return TABLE[status] ?? { code: `0x${status.toString(16).padStart(8, '0')}`, transient: false };
}

export function errorForStatus(status: number): SmsTransientError | SmsPermanentError {
  const c = classifyStatus(status);
  return c.transient ? new SmsTransientError(c.code) : new SmsPermanentError(c.code);
}
