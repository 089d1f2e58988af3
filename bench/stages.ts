// The simulated API every section uses: two stages, both deployed.
export const STAGES = ["prod", "v2"];

export const healthyStages = (): string[] => STAGES.flatMap((s) => ["--stage", `${s}=ok`]);
