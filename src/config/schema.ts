// The config file's shape (docs/design.md, "Config file"), validated when loaded so nothing deeper
// re-checks it. Field names are public.
import { z } from "zod";

const duration = z.union([z.string(), z.number()]);
// `family: 4` in YAML is a number; "4" from the environment is a string: both mean the same.
const family = z
  .union([z.enum(["auto", "4", "6"]), z.literal(4), z.literal(6)])
  .transform((v) => String(v) as "auto" | "4" | "6");
const headerValue = z.union([
  z.string(),
  z.object({ value: z.string(), secret: z.boolean().default(false) }).strict(),
]);

export const targetSchema = z
  .object({
    name: z.string().min(1).max(64).optional(),
    // Required unless `domain` is given (checked below).
    endpoint: z.string().min(1).optional(),
    apiId: z.string().min(1).optional(),
    stages: z.array(z.string()).min(1).optional(),
    mode: z.enum(["header", "host", "alias", "domain"]).optional(),
    domain: z.string().min(1).optional(),
    basePaths: z.array(z.string()).min(1).optional(),
    family: family.optional(),
    compareModes: z.boolean().optional(),
    path: z.string().optional(),
    expectStatus: z.array(z.number().int().min(100).max(599)).optional(),
    headers: z.record(z.string(), headerValue).optional(),
    port: z.number().int().optional(),
    resolvers: z.array(z.string()).optional(),
    timeout: duration.optional(),
    caFile: z.string().optional(),
    privateCidrs: z.array(z.string()).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.domain !== undefined) return;
    for (const key of ["endpoint", "apiId", "stages"] as const) {
      if (t[key] === undefined)
        ctx.addIssue({ code: "custom", path: [key], message: "required (unless domain is given)" });
    }
  });

/**
 * A /probe module: everything a target has except its endpoint or domain, which /probe's
 * `target` gives. `domains` lists the only custom domain names /probe may be pointed at with it.
 * (Built from the fields: a refined schema cannot be `omit`ted.)
 */
export const moduleSchema = z
  .object(targetSchema.shape)
  .omit({ name: true, endpoint: true, domain: true })
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
    compareModes: z.boolean().optional(),
    family: family.optional(),
    insecure: z.boolean().optional(),
    expectPath: z
      .object({
        sources: z.array(z.string()).optional(),
        interfaces: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    aws: z
      .object({
        enabled: z.boolean().optional(),
        profile: z.string().min(1).optional(),
        refresh: duration.optional(),
      })
      .strict()
      .optional(),
    daemon: z
      .object({
        interval: duration.optional(),
        listen: z.string().optional(),
        jitter: z.number().min(0).max(1).optional(),
        maxConcurrentTargets: z.number().int().min(1).max(256).optional(),
        maxConcurrentProbes: z.number().int().min(1).max(256).optional(),
        webConfig: z.string().min(1).optional(),
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
