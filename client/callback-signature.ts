// For apps receiving status callbacks: check the Switchboard-Signature header (README, "Status callbacks").
export {
  DEFAULT_TOLERANCE_SECONDS,
  SignatureToleranceError,
  SIGNATURE_HEADER,
  verifyCallbackSignature,
} from '../channels/callbacks/signature';
export type { SignatureCheck } from '../channels/callbacks/signature';
export type { StatusEvent } from '../domain/status-event';
