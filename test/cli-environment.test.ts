// A host that refuses something the tool needs is not a bug of ours: one line, exit 3, no stack.
import { describe, expect, it } from "vitest";
import { isSystemError } from "../src/cli-run.js";
import { cli } from "./run-cli.js";

describe("environment problems", () => {
  it("end demo in one line with the OS's reason, exit 3, never 'internal error'", async () => {
    // No temporary directory to write the simulator's CA into.
    const { code, stdout, stderr } = await cli(["demo"], { TMPDIR: "/nonexistent/apigw-diag" });
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /^apigw-diag: cannot run here: ENOENT: no such file or directory, mkdtemp '\/nonexistent\/apigw-diag\/apigw-sim-\w+'\n$/,
    );
  });

  it("tells the OS's errors from bugs", () => {
    const refused = Object.assign(new Error("listen EADDRNOTAVAIL"), {
      errno: -99,
      code: "EADDRNOTAVAIL",
      syscall: "listen",
    });
    expect(isSystemError(refused)).toBe(true);
    expect(isSystemError(new TypeError("undefined is not a function"))).toBe(false);
    expect(isSystemError({ errno: -2, syscall: "open" })).toBe(false);
  });
});
