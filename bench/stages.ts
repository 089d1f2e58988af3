// The simulated API every section uses: two stages, both deployed.
export const STAGES = ["prod", "v2"];

export const healthyStages = (): string[] => STAGES.flatMap((s) => ["--stage", `${s}=ok`]);

/** The simulator every healthy section measures against: two endpoint addresses, every stage up. */
export const healthyEndpoint = (): string[] => [
  "--address",
  "127.0.0.1",
  "--address",
  "127.0.0.2",
  ...healthyStages(),
];
