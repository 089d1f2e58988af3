import { describe, expect, it } from "vitest";
import { canBind, explainListenError, loopbackAddresses } from "../../src/simulator/loopback.js";
import { startSimulator } from "../../src/simulator/index.js";
import { UsageError } from "../../src/types.js";

describe("the simulator's loopback addresses", () => {
  it("takes 127.0.0.2 for the second AZ where loopback holds 127/8 (Linux)", async () => {
    expect(await loopbackAddresses(async () => true)).toEqual(["127.0.0.1", "127.0.0.2"]);
  });

  it("takes ::1 where loopback holds 127.0.0.1 alone (macOS)", async () => {
    const held = new Set(["127.0.0.1", "::1"]);
    expect(await loopbackAddresses(async (a) => held.has(a))).toEqual(["127.0.0.1", "::1"]);
  });

  it("simulates one AZ where neither can be bound", async () => {
    expect(await loopbackAddresses(async (a) => a === "127.0.0.1")).toEqual(["127.0.0.1"]);
  });

  it("asks the OS by binding: 127.0.0.1 can be, an address this host does not hold cannot", async () => {
    expect(await canBind("127.0.0.1")).toBe(true);
    // TEST-NET-1: on no interface of a test machine; binding sends nothing.
    expect(await canBind("192.0.2.1")).toBe(false);
  });

  it("starts on the addresses this host can hold when none are given", async () => {
    const sim = await startSimulator();
    try {
      expect(sim.addresses).toEqual(await loopbackAddresses());
    } finally {
      await sim.close();
    }
  });

  it("says in one line why it cannot listen on an address it was given", async () => {
    const started = startSimulator({ addresses: ["192.0.2.1"], allowNonLoopback: true });
    await expect(started).rejects.toThrow(UsageError);
    await expect(started).rejects.toThrow(
      /^the simulator cannot listen on 192\.0\.2\.1 \(EADDRNOTAVAIL\): this host's loopback does not hold that address/,
    );
  });

  it("leaves any other error as it is", () => {
    const bug = new TypeError("x is undefined");
    expect(explainListenError(bug)).toBe(bug);
  });
});
