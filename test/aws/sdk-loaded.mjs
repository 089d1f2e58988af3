// Preloaded with `node --import` by test/aws/lazy.test.ts: a module hook that writes every module
// URL the process loads to the file APIGW_DIAG_TEST_LOADED names, so the test can tell which of
// the bundle's chunks (the AWS SDK's among them) a run loaded.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  if (process.env.APIGW_DIAG_TEST_LOADED) appendFileSync(process.env.APIGW_DIAG_TEST_LOADED, url + "\\n");
  return next(url, context);
}`),
);
