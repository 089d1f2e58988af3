// The texts that lived here are in hints.ts now (every hint in one place). This module only
// re-exports them, so that modules still importing from it keep working.
export { DOMAIN_NOT_RESOLVED, FORBIDDEN_IN_EVERY_MODE, ipv6OnlyHint } from "./hints.js";
