/**
 * @samsa/testkit: what every package's tests share and no package's src/ may import. Tests reach
 * it as `@samsa/testkit` (an alias in vitest.config.ts and a path in tsconfig.test.json), so it
 * needs no build and adds no dependency to any package.
 */
export { giveUp, waitFor, type WaitForOptions } from './waitFor.js';
export { freePort, freePorts, freePortBlock } from './ports.js';
export { manualTimers, type ManualTimers } from './manualTimers.js';
export { RecordingTimers } from './recordingTimers.js';
export { makeCertificates, type CertificateOptions } from './certificates.js';
