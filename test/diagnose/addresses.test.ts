import { describe, expect, it } from "vitest";
import { privateRanges } from "../../src/config/ranges.js";
import { judgeAddresses } from "../../src/diagnose/addresses.js";
import { splitByFamily } from "../../src/diagnose/family.js";

const rules = (addresses: string[], extra: string[] = [], endpointV6: string[] = []) =>
  Object.fromEntries(
    judgeAddresses(addresses, privateRanges(extra), endpointV6).map((j) => [j.address, j.rule]),
  );

describe("which addresses are the endpoint's", () => {
  it.each([
    [["10.20.1.10", "172.16.0.1", "192.168.1.1"], {}, "rfc1918"],
    [["fd12:3456::10"], {}, "ula"],
    [["100.64.1.1"], { extra: ["100.64.0.0/10"] }, "privateCidrs"],
    [["2600:1f18:1:2::10"], { extra: ["2600:1f18::/32"] }, "privateCidrs"],
  ])("%j is %s by itself", (addresses, opts, rule) => {
    const got = rules(addresses, (opts as { extra?: string[] }).extra);
    expect(Object.values(got).every((r) => r === rule)).toBe(true);
  });

  it("accepts global unicast IPv6 that is among the endpoint's own AAAA answers (dualstack)", () => {
    const v6 = ["2600:1f18:1:2::10", "2600:1f18:1:3::10"];
    expect(rules(["10.20.1.10", "10.20.2.10", ...v6], [], v6)).toEqual({
      "10.20.1.10": "rfc1918",
      "10.20.2.10": "rfc1918",
      "2600:1f18:1:2::10": "dualstack",
      "2600:1f18:1:3::10": "dualstack",
    });
  });

  it("compares IPv6 answers however they are written", () => {
    expect(rules(["2600:1f18:1:2::10"], [], ["2600:1F18:1:2:0:0:0:10"])).toEqual({
      "2600:1f18:1:2::10": "dualstack",
    });
  });

  it("refuses a global IPv6 answer leaking in through split DNS, though every A answer is private", () => {
    // The endpoint's own name answers ::10; the API's name answers another, public, address too.
    expect(rules(["10.20.1.10", "2600:1f18:1:2::99"], [], ["2600:1f18:1:2::10"])).toEqual({
      "10.20.1.10": "rfc1918",
      "2600:1f18:1:2::99": null,
    });
    expect(rules(["10.20.1.10", "2600:1f18:1:2::99"])).toEqual({
      "10.20.1.10": "rfc1918",
      "2600:1f18:1:2::99": null,
    });
  });

  it("accepts an AAAA-only endpoint (no A answer at all) by its own AAAA answers", () => {
    expect(rules(["2600:1f18:1:2::10"], [], ["2600:1f18:1:2::10"])).toEqual({
      "2600:1f18:1:2::10": "dualstack",
    });
  });

  it("refuses global IPv6 that the endpoint's own name does not answer", () => {
    expect(rules(["2600:1f18:1:2::10"])).toEqual({ "2600:1f18:1:2::10": null });
  });

  it("judges a NAT64 answer (64:ff9b::/96) by the IPv4 address it embeds, and keeps it", () => {
    const judged = judgeAddresses(["64:ff9b::a14:10a", "64:ff9b::808:808"], privateRanges([]));
    expect(judged).toEqual([
      { address: "64:ff9b::a14:10a", rule: "nat64", embedded: "10.20.1.10" },
      { address: "64:ff9b::808:808", rule: null, embedded: "8.8.8.8" },
    ]);
    const extra = judgeAddresses(["64:ff9b::6440:101"], privateRanges(["100.64.0.0/10"]));
    expect(extra[0]?.rule).toBe("nat64");
  });

  it("never accepts link-local, loopback or multicast IPv6 through the dualstack rule", () => {
    expect(rules(["10.0.0.1", "fe80::1", "::1", "ff02::1"])).toEqual({
      "10.0.0.1": "rfc1918",
      "fe80::1": null,
      "::1": null,
      "ff02::1": null,
    });
  });

  it("judges an IPv4-mapped IPv6 answer as the IPv4 address it carries", () => {
    expect(rules(["::ffff:10.1.2.3", "::ffff:8.8.8.8"])).toEqual({
      "::ffff:10.1.2.3": "rfc1918",
      "::ffff:8.8.8.8": null,
    });
  });
});

describe("which families are tried", () => {
  const addresses = ["10.0.0.1", "2600:1f18::1"];
  const yes = () => ({ ok: true, reason: "addr" });
  const no = () => ({ ok: false, reason: "no address" });

  it("auto tries IPv6 only with IPv6 connectivity, and says why not otherwise", () => {
    expect(splitByFamily(addresses, "auto", yes)).toEqual({ tried: addresses, notTried: [] });
    const without = splitByFamily(addresses, "auto", no);
    expect(without.tried).toEqual(["10.0.0.1"]);
    expect(without.notTried).toEqual([
      { address: "2600:1f18::1", reason: expect.stringContaining("no address") },
    ]);
  });

  it("does not look at the host when there is no IPv6 answer", () => {
    const check = () => {
      throw new Error("must not be called");
    };
    expect(splitByFamily(["10.0.0.1"], "auto", check).tried).toEqual(["10.0.0.1"]);
  });

  it("4 and 6 keep one family whatever the host has", () => {
    expect(splitByFamily(addresses, "4", yes).tried).toEqual(["10.0.0.1"]);
    expect(splitByFamily(addresses, "6", no).tried).toEqual(["2600:1f18::1"]);
    expect(splitByFamily(addresses, "6", no).notTried).toEqual([
      { address: "10.0.0.1", reason: "--family 6" },
    ]);
  });
});
