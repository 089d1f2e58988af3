// The daemon's reuse cache (src/diagnose/reuse.ts): what makes an answer reusable, and its bounds.
import { describe, expect, it } from "vitest";
import { REUSE_MAX_AGE_MS, ReuseCache } from "../../src/diagnose/reuse.js";

describe("ReuseCache", () => {
  it("keeps an answer for the same address set, in any order or spelling", () => {
    const reuse = new ReuseCache({ clock: () => 0 });
    reuse.azs.set("r|e", ["10.0.1.5", "fd00::5"], new Map([["10.0.1.5", "use1-az1"]]));
    expect(reuse.azs.get("r|e", ["fd00:0:0:0:0:0:0:5", "10.0.1.5"])?.value.get("10.0.1.5")).toBe(
      "use1-az1",
    );
  });

  it("forgets an answer asked for another address set", () => {
    const reuse = new ReuseCache({ clock: () => 0 });
    reuse.tls12.set("name|443", ["10.0.1.5", "10.0.2.5"], null);
    expect(reuse.tls12.get("name|443", ["10.0.1.5"])).toBeUndefined();
    // Forgotten, not only hidden: the old set does not bring it back.
    expect(reuse.tls12.get("name|443", ["10.0.1.5", "10.0.2.5"])).toBeUndefined();
  });

  it("keeps an answer younger than the bound, and forgets it at the bound", () => {
    let clock = 1_000;
    const reuse = new ReuseCache({ clock: () => clock });
    reuse.zone.set("us-east-1|10.0.0.2:53", [], []);
    clock += REUSE_MAX_AGE_MS - 1;
    expect(reuse.zone.get("us-east-1|10.0.0.2:53")?.at).toBe(1_000);
    expect(reuse.note({ value: [], at: 1_000 })).toContain("an earlier run 600 s ago");
    clock += 1;
    expect(reuse.zone.get("us-east-1|10.0.0.2:53")).toBeUndefined();
  });

  it("holds at most 1024 entries of a kind, dropping the oldest", () => {
    const reuse = new ReuseCache({ clock: () => 0 });
    for (let i = 0; i < 1030; i++) reuse.zone.set(`region-${i}`, [], []);
    expect(reuse.zone.size).toBe(1024);
    expect(reuse.zone.get("region-0")).toBeUndefined();
    expect(reuse.zone.get("region-1029")).toBeDefined();
  });
});
