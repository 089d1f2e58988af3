// 3. Cold start: `apigw-diag --version` against a Node that does nothing.
import { CLI_ARGV, fmt, interleaved, measuredNode, median, ratio, type Figure } from "./lib.js";

export async function coldStart(reps: number): Promise<Figure[]> {
  const node = measuredNode();
  const [bare, version, help] = await interleaved(
    [
      { cmd: node, args: ["-e", "0"] },
      {
        cmd: node,
        args: [...CLI_ARGV, "--version"],
        check: (t) => (t.code === 0 ? undefined : "failed"),
      },
      {
        cmd: node,
        args: [...CLI_ARGV, "--help"],
        check: (t) => (t.code === 0 ? undefined : "failed"),
      },
    ],
    reps,
    3,
  );
  const a = median(version ?? []);
  const b = median(bare ?? []);
  const h = median(help ?? []);
  return [
    { section: "cold start", label: "node -e 0", value: fmt(b), goal: "", met: undefined },
    {
      section: "cold start",
      label: "apigw-diag --version",
      value: fmt(a),
      goal: "",
      met: undefined,
    },
    {
      section: "cold start",
      label: "ratio --version / node",
      value: ratio(a, b),
      goal: "<= 1.50x",
      met: a <= 1.5 * b,
    },
    {
      section: "cold start",
      label: "apigw-diag --help (info)",
      value: `${fmt(h)} (${ratio(h, b)})`,
      goal: "",
      met: undefined,
    },
  ];
}
