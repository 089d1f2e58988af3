// The config file's shape (DESIGN.md "Config file"), validated when loaded so nothing deeper
// re-checks it. Field names are public.
import { z } from "zod";

const duration = z.union([z.string(), z.number()]);
const headerValue = z.union([
  z.string(),
  z.object({ value: z.string(), secret: z.boolean().default(false) }).strict(),
]);

export const targetSchema = z
  .object({
    name: z.string().min(1).max(64).optional(),
    endpoint: z.string().min(1),
    apiId: z.string().min(1),
    stages: z.array(z.string()).min(1),
    mode: z.enum(["header", "host", "alias"]).optional(),
    path: z.string().optional(),
    expectStatus: z.array(z.number().int().min(100).max(599)).optional(),
    headers: z.record(z.string(), headerValue).optional(),
    port: z.number().int().optional(),
    resolvers: z.array(z.string()).optional(),
    timeout: duration.optional(),
    caFile: z.string().optional(),
    privateCidrs: z.array(z.string()).optional(),
  })
  .strict();

/**
 * A /probe module: everything a target has except its endpoint, which /probe's `target` gives.
 * `domains` lists the only custom domain names /probe may be pointed at with this module.
 */
export const moduleSchema = targetSchema
  .omit({ name: true, endpoint: true })
  .extend({ domains: z.array(z.string()).optional() })
  .strict();

export const configSchema = z
  .object({
    timeout: duration.optional(),
    resolvers: z.array(z.string()).optional(),
    caFile: z.string().optional(),
    privateCidrs: z.array(z.string()).optional(),
    port: z.number().int().optional(),
    concurrency: z.number().int().min(1).max(1024).optional(),
    compareOs: z.boolean().optional(),
    insecure: z.boolean().optional(),
    daemon: z
      .object({
        interval: duration.optional(),
        listen: z.string().optional(),
        jitter: z.number().min(0).max(1).optional(),
        maxConcurrentTargets: z.number().int().min(1).max(256).optional(),
        maxConcurrentProbes: z.number().int().min(1).max(256).optional(),
      })
      .strict()
      .optional(),
    targets: z.array(targetSchema).optional(),
    modules: z.record(z.string(), moduleSchema).optional(),
  })
  .strict();

export type TargetConfig = z.infer<typeof targetSchema>;
export type ModuleConfig = z.infer<typeof moduleSchema>;
export type FileConfig = z.infer<typeof configSchema>;

/** One line per problem, each naming the field: `targets[0].apiId: expected string`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path
        .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join("");
      return `${where || "(top level)"}: ${issue.message}`;
    })
    .join("; ");
}
