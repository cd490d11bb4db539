import { DefaultFailureConverter } from '@temporalio/common';

// Loaded by path into the workflow sandbox too: failure messages and stacks become payloads,
// which the codec then encrypts like any other.
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
