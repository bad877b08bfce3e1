// The ES module entry of @incidentfox/sdk. The implementation is CommonJS (index.cjs) so that `require()` and
// `import` load one copy of it: `instanceof` checks and client state work the same from both.
import sdk from "./index.cjs";

export * from "./errors.js"; // the error classes: the same objects index.cjs uses

export const {
  IncidentFoxClient,
  Investigation,
  VERSION,
  DEFAULT_BASE_URL,
  TERMINAL_STATUSES,
  backoffMs,
  pollDelays,
} = sdk;

export default sdk;
