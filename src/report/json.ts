import type { Report } from "../types.js";

/** The design's JSON document, as one line-terminated string. */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
